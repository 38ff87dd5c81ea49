# The two commands at the top of the README:
#   make run    set up, build the site and run site + form + worker on http://127.0.0.1:8000/
#   make test   set up (Python packages; Debian's chromium, redis-server, Java, gnupg, openssl; the npm
#               checkers), lint and run every test, over the site built by both builders
# And: make build [BUILDER=zensical]   the finished site in site/ (MkDocs by default, as Netlify)
# Both work on a fresh Debian machine with Python 3.11 and access to PyPI, Debian's and npm's packages.

VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3
export NO_MKDOCS_2_WARNING := 1
# pytest-xdist: one test process per core; `worksteal` evens out the long browser tests. Three or four
# processes were slower on 2 cores once the page walks stopped waiting (docs/testing.md).
XDIST  ?= -n 2 --dist worksteal
# mkdocs (Material for MkDocs; Netlify) or zensical (its successor, classic look).
BUILDER ?= mkdocs

.PHONY: run run-cluster test test-fast bench bench-smoke mutation lighthouse build check setup translations system-packages clean

# The enquiry service's words in each language (docs/languages.md): each catalogue,
# formsvc/translations/<code>/LC_MESSAGES/messages.po, compiled for the service (the .mo is not kept in git).
CATALOGUES := $(wildcard formsvc/translations/*/LC_MESSAGES/messages.po)
setup: $(VENV)/.installed $(CATALOGUES:.po=.mo)

formsvc/translations/%/LC_MESSAGES/messages.mo: formsvc/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile --statistics -i $< -o $@

# After changing the form's words in formsvc/: gather them (babel.cfg) into messages.pot, and add the new
# ones to each language's messages.po, empty, for a translator (tests/test_i18n.py fails until each is filled).
translations: setup
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l --sort-output --add-location=file \
	  --project="Meet your offender enquiry form" -o formsvc/translations/messages.pot .
	$(VENV)/bin/pybabel update -i formsvc/translations/messages.pot -d formsvc/translations \
	  --no-fuzzy-matching --ignore-obsolete
	$(MAKE) setup

# The project itself, editable, with everything the site and the tests need
# (pyproject.toml; the lists are the requirements*.txt files).
$(VENV)/.installed: pyproject.toml requirements.txt requirements-service.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[site,test]'
	touch $@

# The browser tests use Debian's Chromium (never `playwright install`), the shared
# rate-limit tests a real Redis, the outbox tests a throwaway PostgreSQL, the Nu HTML Checker
# Java, the checkers come from npm, the sealing tests decrypt with openssl and gpg, and nginx stands
# in front of gunicorn (make run-cluster, the slow-client test) as in production.
# tools/system-packages.sh asks Debian only for what is missing, each tool by its own package,
# and never for npm when the machine's Node.js ships its own (the two conflict).
system-packages:
	@sh tools/system-packages.sh

# The site pipeline (sitebuild/): prepare, build, finish, verify. With MkDocs this is
# `mkdocs build --strict`, whose events (mkdocs_adapter/) run the same steps. Netlify runs it too.
build: setup
	$(PY) -m sitebuild build --builder $(BUILDER)

# The Nu HTML Checker (vnu-jar) and HTML_CodeSniffer, pinned in tests/node/package-lock.json;
# --ignore-scripts: nothing downloads anything else while installing.
tests/node/node_modules/.installed: tests/node/package.json tests/node/package-lock.json
	npm ci --prefix tests/node --ignore-scripts --no-audit --no-fund
	touch $@

# The content checks on their own, for comms staff (EDITING.md): each problem as file:line.
check: setup
	$(PY) -m sitebuild check

run: build
	$(PY) -m localrun

# The production-like stack on this machine (docs/deploying.md): a throwaway PostgreSQL
# and Redis, two web instances (nginx in front of gunicorn, deploy/) behind a small proxy,
# two delivery workers, an SMTP sink; prints where the form is and where the mail lands.
# Ctrl-C stops it all.
run-cluster: build system-packages
	$(PY) -m localrun.cluster

# Tests run on both cores (pytest-xdist). `make test` is everything, both builders included, and
# prints the slowest tests; the linter first (ruff, configured in pyproject.toml): quick, its messages exact.
# Lighthouse (bench/node_modules) too: tests/test_bench.py runs every benchmark at its smallest size.
test: setup system-packages tests/node/node_modules/.installed bench/node_modules/.installed
	$(PY) -m ruff check .
	$(PY) -m pytest $(XDIST) --durations=25

# The fast tier, to run after every change: the tests that need no site build, browser, PostgreSQL,
# Redis, Java or service process (tests/conftest.py derives the tiers from the fixtures a test uses);
# the property tests take fewer examples there (tests/test_fuzz.py, profile "fast"), all of them in `make test`.
test-fast: setup
	HYPOTHESIS_PROFILE=fast $(PY) -m pytest -m fast $(XDIST)

# Benchmarks (not part of test; about 12 minutes): delivery vs plain smtplib, then submissions
# through gunicorn vs a static file, with a healthy and a silent SMTP server, the cost of sealing
# (S/MIME, OpenPGP against none), then the PostgreSQL outbox against SQLite and two workers
# against one (bench/cluster.py). docs/reliability.md.
bench: setup system-packages
	$(PY) bench/deliver.py
	$(PY) bench/submit.py
	$(PY) -m bench.seal
	$(PY) -m bench.sealing
	$(PY) -m bench.cluster

# Every benchmark in bench/ (Lighthouse on the home page too) at its smallest size, 1 to 2
# minutes: each must pass its own checks and print its ratio; fails if any does not. The sizes
# are in testsupport/benchmarks.py, which tests/test_bench.py runs as well.
bench-smoke: setup system-packages bench/node_modules/.installed
	$(PY) -m bench.smoke

# Mutation testing, on demand (docs/mutation.md; not part of test): mutmut makes small changes
# to the safety-critical modules one at a time and reruns the fast tests that reach them
# (pyproject.toml [tool.mutmut]); a change no test notices is listed as "survived".
# MUTANTS='formsvc.security*' tries one module; the results stay in mutants/ (`mutmut show NAME`).
MUTANTS ?=
MUTATION_CHILDREN ?= 2
mutation: setup
	$(VENV)/bin/mutmut run --max-children $(MUTATION_CHILDREN) $(if $(MUTANTS),'$(MUTANTS)')
	$(VENV)/bin/mutmut results | grep -v ': not checked$$' || true

# Lighthouse (npm, bench/package-lock.json) on every page and the form, mobile mode,
# with Debian's Chromium; prints the table kept in docs/accessibility.md. Not part of test.
lighthouse: setup system-packages bench/node_modules/.installed
	$(PY) bench/lighthouse.py

bench/node_modules/.installed: bench/package.json bench/package-lock.json | system-packages
	npm ci --prefix bench --ignore-scripts --no-audit --no-fund
	touch $@

clean:
	rm -rf site var test-artifacts .pytest_cache mutants
