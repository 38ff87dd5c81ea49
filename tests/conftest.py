"""Shared fixtures. Each section belongs to the code it tests; keep them tidy.

What the fixtures are built from (servers, answers, the form browser) is in testsupport/,
which tests import directly.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import hypothesis
import pytest

from testsupport import ROOT
from testsupport.answers import sample_answers
from testsupport.forms import FormBrowser
from testsupport.net import ServerThread, free_port
from testsupport.site import BUILDERS, NeutralSite, build_site
from testsupport.smtp import SMTPServer

# ---------------------------------------------------------------- Property tests
# No time limit per example: on a shared 2-core machine running the tiers in parallel, Hypothesis'
# 200 ms deadline failed correct code at random. What a property test checks is the property.
hypothesis.settings.register_profile("no-deadline", deadline=None)
hypothesis.settings.load_profile("no-deadline")

# ---------------------------------------------------------------- Tiers
# A test's tier comes from what it uses, not from a mark someone must remember: a test that asks,
# directly or through other fixtures, for one of these fixtures gets the marker. `make test-fast`
# runs the tests with none of them (marked `fast`); `make test` runs everything. A fixture that
# starts a build, a browser, PostgreSQL, Redis, Java or a service process belongs in this table;
# the guard below fails a fast test that starts such a process without one.
TIERS = {
    "build": {"site_builds", "site_build", "provider_site"},
    "browser": {"browser"},  # pytest-playwright's; page and context depend on it
    "postgres": {"postgres", "new_postgres"},
    "process": {"processes", "production_server", "local_run", "run_python", "run_command", "bench_runner", "vnu_errors"},
}
#: Programs a fast test may run: quick, and the real tools that open what we seal.
FAST_PROGRAMS = {"openssl", "gpg", "gpgconf", "gpg-agent", "gpgsm", "sh"}


def pytest_collection_modifyitems(items):
    for item in items:
        used = set(item.fixturenames)
        tiers = [tier for tier, fixtures in TIERS.items() if used & fixtures]
        for tier in tiers:
            item.add_marker(tier)
        # A fixture that picks its storage or server by parameter marks the slow parameter itself
        # (pytest.param(..., marks=pytest.mark.postgres)).
        if not any(item.get_closest_marker(tier) for tier in TIERS):
            item.add_marker("fast")


@pytest.fixture(autouse=True)
def _fast_tests_start_no_slow_process(request, monkeypatch):
    """A test in the fast tier that starts a slow program (Python, a server, a browser, Java) fails,
    saying how to put it in its tier: the table above stays true without anyone checking by hand."""
    if request.node.get_closest_marker("fast") is None:
        return
    import subprocess

    real_init = subprocess.Popen.__init__

    def guarded(self, args, *more, **options):
        program = Path(str(args if isinstance(args, (str, bytes, os.PathLike)) else args[0])).name
        if program not in FAST_PROGRAMS:
            pytest.fail(f"{request.node.nodeid} starts {program!r}, so it is not a fast test: have it use "
                        f"a fixture from TIERS in tests/conftest.py (run_python for a Python process).")
        real_init(self, args, *more, **options)

    monkeypatch.setattr(subprocess.Popen, "__init__", guarded)

# ---------------------------------------------------------------- The built site

@pytest.fixture(scope="session")
def neutral_site():
    site = NeutralSite()
    yield site
    site.close()


@pytest.fixture(scope="session", params=BUILDERS)
def builder(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def site_builds(tmp_path_factory, neutral_site):
    """``site_builds(builder)``: the site built once a session by that builder (strict),
    its exit button pointing at neutral_site."""
    builds: dict[str, Path] = {}

    def get(builder: str) -> Path:
        if builder not in builds:
            dest = tmp_path_factory.mktemp(f"site-{builder}")
            result = build_site(dest, builder, EXIT_URL=neutral_site.url)
            assert result.returncode == 0, result.stdout + result.stderr
            builds[builder] = dest
        return builds[builder]

    return get


@pytest.fixture
def site_build():
    """``site_build(dest, builder="mkdocs", **env)``: a build of its own, for a test that changes
    what goes in (settings, a broken catalogue); testsupport.site.build_site."""
    return build_site


@pytest.fixture(scope="session")
def built_site(site_builds, builder) -> Path:
    """The finished site of each builder in turn: every test that uses it runs for both,
    because they must give the same finished site."""
    return site_builds(builder)


@pytest.fixture(scope="session")
def site_server(built_site):
    """The built site over real HTTP with the headers Netlify would send."""
    from localrun.localsite import StaticSite

    with ServerThread(StaticSite(built_site)) as server:
        yield server


# ---------------------------------------------------------------- Real Chromium
# Debian's chromium, driven by Playwright. Never `playwright install`.

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed: run `make test`, which installs it.")
    return {**browser_type_launch_args, "executable_path": chromium, "args": CHROMIUM_ARGS}


# ---------------------------------------------------------------- Site and form on one origin; accessibility
# As Netlify serves them: the built site with its headers, and /enquiry/* from the form
# service. Used by the form's browser tests (test_enquiry.py) and test_accessibility.py.

@pytest.fixture
def make_form_site(built_site, make_form_app):
    """``make_form_site(**config)``: the built site and a form app made with ``config`` (for example
    RATELIMIT_POST="1 per minute") on one origin over real HTTP. The server has ``url`` and ``app``."""
    from localrun.localsite import OneOrigin, StaticSite

    servers = []

    def make(**config):
        app = make_form_app(SITE_DIR=str(built_site), **config)
        server = ServerThread(OneOrigin(StaticSite(built_site), app))
        server.app = app
        servers.append(server.__enter__())
        return server

    yield make
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def form_site(make_form_site):
    """The built site and the form on one origin over real HTTP, as Netlify serves them."""
    return make_form_site()


# ---------------------------------------------------------------- Delivery: outbox, message, transport, worker, health
# A real SMTP server over TCP (aiosmtpd), real SQLite files in tmp_path.

@pytest.fixture
def smtp_server():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def start_smtp_server():
    """Start a server later in a test, e.g. on a port that was dead until then."""
    servers = []

    def start(port: int | None = None, **options) -> SMTPServer:
        servers.append(SMTPServer(port, **options).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (yet)."""
    return free_port()


@pytest.fixture
def answers():
    return sample_answers


@pytest.fixture
def outbox(tmp_path):
    from formsvc.outbox.sqlite import SQLiteOutbox

    return SQLiteOutbox(tmp_path / "data" / "outbox.sqlite3")


@pytest.fixture
def delivery_app(tmp_path, smtp_server):
    """The app with its outbox in tmp_path and mail going to ``smtp_server``."""
    from formsvc import create_app

    return create_app({
        "TESTING": True,
        "DATA_DIR": str(tmp_path / "data"),
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": smtp_server.port,
        "SMTP_SECURITY": "none",
        "MAIL_FROM": "enquiries@rj.example",
        "HUB_INBOX": "hub@hub.example",
    })


# ---------------------------------------------------------------- Enquiry form (request half)
# The form pages through Flask's test client, driven like a browser: read the page,
# keep what it says (hidden tokens, the person's answers), change some fields, post.

@pytest.fixture
def make_form_app(tmp_path):
    """``make_form_app(**config)``: an app with its outbox in tmp_path, CSRF on.

    It uses the fallback layout unless given SITE_DIR (a built site, e.g. ``built_site``),
    so these tests do not depend on whether someone has built site/ in the checkout.
    """
    from formsvc import create_app

    def make(**config):
        settings = {
            "TESTING": True,
            "SITE_DIR": str(tmp_path / "no-site"),
            "DATA_DIR": str(tmp_path / "data"),
            "MIN_FILL_SECONDS": 0,
            "EXIT_URL": "https://neutral.example/weather",
        }
        settings.update(config)
        return create_app(settings)

    return make


@pytest.fixture
def form_app(make_form_app):
    return make_form_app()


@pytest.fixture
def form_browser(form_app):
    # Not named `browser`: that is pytest-playwright's real Chromium, used by the browser tests.
    return FormBrowser(form_app.test_client())


@pytest.fixture
def stored(form_app):
    """``stored()``: the enquiries in form_app's outbox waiting for delivery (claimed to read them)."""
    from formsvc.outbox import get_outbox

    def read(app=None):
        return get_outbox(app or form_app).claim(limit=1000)

    return read


@pytest.fixture
def clock(monkeypatch):
    """Move time.time() forward: ``clock.advance(seconds)``."""
    import time as time_module

    class Clock:
        offset = 0.0
        real = time_module.time

        def advance(self, seconds: float) -> None:
            self.offset += seconds

    instance = Clock()
    monkeypatch.setattr(time_module, "time", lambda: Clock.real() + instance.offset)
    return instance


# ---------------------------------------------------------------- PostgreSQL (the outbox's other backend)
# One throwaway cluster per test session (Debian's package; as the postgres user when
# we are root), a fresh database per test. Tests that stop or break the server start
# their own cluster (testsupport.postgres.PostgresCluster).

@pytest.fixture(scope="session")
def postgres():
    from testsupport.postgres import PostgresCluster

    try:
        cluster = PostgresCluster(settings={"max_connections": 300}).start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield cluster
    cluster.destroy()


@pytest.fixture
def new_postgres():
    """``new_postgres(**settings)``: a cluster of this test's own (made, not started), free to stop, crash
    and reconfigure; destroyed at the end."""
    from testsupport.postgres import PostgresCluster

    clusters = []

    def make(**settings) -> PostgresCluster:
        clusters.append(PostgresCluster(settings=settings))
        try:
            return clusters[-1].init()
        except RuntimeError as exc:
            pytest.fail(str(exc))

    yield make
    for cluster in clusters:
        cluster.destroy()


@pytest.fixture
def postgres_url(postgres) -> str:
    """The URL of a new, empty database on the session's cluster."""
    import uuid

    return postgres.create_database(f"test_{uuid.uuid4().hex[:12]}")


# ---------------------------------------------------------------- Real processes (fault tests)

class _Commands:
    """Runs a command in the checkout as a real process, capturing text by default."""

    def __init__(self, *prefix: str):
        self.prefix = list(prefix)

    def __call__(self, *args: str, **options):
        import subprocess

        return subprocess.run([*self.prefix, *args], **{"cwd": ROOT, "capture_output": True, "text": True,
                                                         **options})

    def start(self, *args: str, **options):
        """The same without waiting: a Popen with text pipes."""
        import subprocess

        return subprocess.Popen([*self.prefix, *args], **{
            "cwd": ROOT, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **options})


@pytest.fixture(scope="session")
def run_python():
    """``run_python(*args, **options)``: ``python *args`` in the checkout (a CLI, a fresh interpreter), with
    subprocess.run's options; ``run_python.start(...)`` without waiting."""
    import sys

    return _Commands(sys.executable)


@pytest.fixture(scope="session")
def run_command():
    """``run_command(*argv, **options)``: any command in the checkout, as a reader of the docs types it."""
    return _Commands()


@pytest.fixture
def processes():
    """Start processes with ``processes.add(p.start())``; all are stopped (SIGKILL if need be) at the end."""
    started = []

    class Registry:
        def add(self, process):
            started.append(process)
            return process

    yield Registry()
    for process in reversed(started):
        process.stop(timeout=5)
