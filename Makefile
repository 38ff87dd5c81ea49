# The two commands in the README:
#   make run    set up, build the site and run site + form + worker on http://127.0.0.1:8000/
#   make test   set up (Python packages; Debian's chromium, redis-server, Java, gnupg, openssl; the npm
#               checkers), lint and run every test, over the site built by both builders
# And: make build [BUILDER=zensical]   the finished site in site/ (MkDocs by default, as Netlify)
# Both work on a fresh Debian machine with Python 3.11 and access to PyPI, Debian's and npm's packages.

VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export NO_MKDOCS_2_WARNING := 1
# mkdocs (Material for MkDocs; Netlify) or zensical (its successor, classic look).
BUILDER ?= mkdocs

.PHONY: run run-cluster test bench lighthouse build check setup system-packages clean

setup: $(VENV)/.installed

# The project itself, editable, with everything the site and the tests need
# (pyproject.toml; the lists are the requirements*.txt files).
$(VENV)/.installed: pyproject.toml requirements.txt requirements-service.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[site,test]'
	touch $@

# The browser tests use Debian's Chromium (never `playwright install`), the shared
# rate-limit tests a real Redis, the outbox tests a throwaway PostgreSQL, the Nu HTML Checker
# Java, the checkers come from npm, and the sealing tests decrypt with openssl and gpg
# (gnupg), not with the library that encrypted.
system-packages:
	@if ! command -v chromium >/dev/null || ! command -v redis-server >/dev/null || \
	    ! command -v java >/dev/null || ! command -v npm >/dev/null || \
	    ! command -v gpg >/dev/null || ! command -v openssl >/dev/null || \
	    ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium redis-server \
	    default-jre-headless nodejs npm gnupg openssl postgresql; \
	fi

# The site pipeline (sitebuild/): prepare, build, finish, verify. With MkDocs this is
# `mkdocs build --strict`, whose hooks run the same steps.
build: setup
	$(PY) -m sitebuild build --builder $(BUILDER)

# The Nu HTML Checker (vnu-jar) and HTML_CodeSniffer, pinned in tests/node/package-lock.json;
# --ignore-scripts: nothing downloads anything else while installing.
tests/node/node_modules/.installed: tests/node/package.json tests/node/package-lock.json
	npm ci --prefix tests/node --ignore-scripts --no-audit --no-fund
	touch $@

# The content checks on their own, for comms staff (EDITING.md): each problem as file:line.
check: setup
	$(PY) -m hooks.content_checks

run: build
	$(PY) -m localrun

# The production-like stack on this machine (README "Deploying"): a throwaway PostgreSQL
# and Redis, two gunicorn instances behind a small proxy, two delivery workers, an SMTP
# sink; prints where the form is and where the mail lands. Ctrl-C stops it all.
run-cluster: build system-packages
	$(PY) -m localrun.cluster

# The linter first (ruff, configured in pyproject.toml): quick, and its messages are exact.
test: setup system-packages tests/node/node_modules/.installed
	$(PY) -m ruff check .
	$(PY) -m pytest

# Benchmarks (not part of test): delivery vs plain smtplib, then submissions through
# gunicorn vs a static file, with a healthy and a silent SMTP server, the cost of sealing
# (S/MIME, OpenPGP against none), then the PostgreSQL outbox against SQLite and two workers
# against one (bench/cluster.py). README "Reliability".
bench: setup system-packages
	$(PY) bench/deliver.py
	$(PY) bench/submit.py
	$(PY) -m bench.seal
	$(PY) -m bench.sealing
	$(PY) -m bench.cluster

# Mutation testing, on demand (docs/mutation.md; not part of test): mutmut makes small changes
# to the safety-critical modules one at a time and reruns the fast tests that reach them
# (pyproject.toml [tool.mutmut]); a change no test notices is listed as "survived".
# MUTANTS='formsvc.security*' tries one module; the results stay in mutants/ (`mutmut show NAME`).
MUTANTS ?=
MUTATION_CHILDREN ?= 2
.PHONY: mutation
mutation: setup
	$(VENV)/bin/mutmut run --max-children $(MUTATION_CHILDREN) $(if $(MUTANTS),'$(MUTANTS)')
	$(VENV)/bin/mutmut results | grep -v ': not checked$$' || true

# Lighthouse (npm, bench/package-lock.json) on every page and the form, mobile mode,
# with Debian's Chromium; prints the table kept in the README. Not part of test.
lighthouse: setup system-packages bench/node_modules/.installed
	$(PY) bench/lighthouse.py

bench/node_modules/.installed: bench/package.json bench/package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	npm ci --prefix bench --no-audit --no-fund
	touch $@

clean:
	rm -rf site var test-artifacts .pytest_cache mutants
