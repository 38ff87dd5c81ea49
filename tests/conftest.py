"""Shared fixtures. Each section belongs to the code it tests; keep them tidy."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerThread:
    """A real HTTP server for a WSGI app on 127.0.0.1, in a background thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", free_port(), app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


# ---------------------------------------------------------------- The built site

class NeutralSite:
    """Stands in for the exit destination (BBC Weather) on another origin, and
    records what each request told it, such as the Referer."""

    def __init__(self):
        self.requests: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append({"path": self.path, "headers": dict(self.headers)})
                body = b"<!doctype html><html lang='en'><title>Weather</title><h1>Weather</h1></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        # "localhost" rather than 127.0.0.1: another site, not just another port.
        self.url = f"http://localhost:{self.server.server_port}/weather"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def neutral_site():
    site = NeutralSite()
    yield site
    site.close()


BUILDERS = ["mkdocs", "zensical"]


def build_site(dest: Path, builder: str = "mkdocs", **env) -> subprocess.CompletedProcess:
    """mkdocs: `mkdocs build --strict` as Netlify runs it (its hooks finish the site);
    zensical: the site pipeline's plain command around `zensical build` (make build BUILDER=zensical)."""
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1", **env}
    command = ([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(dest)] if builder == "mkdocs"
               else [sys.executable, "-m", "sitebuild", "build", "--builder", builder, "--site-dir", str(dest)])
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)


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


@pytest.fixture(scope="session")
def built_site(site_builds, builder) -> Path:
    """The finished site of each builder in turn: every test that uses it runs for both,
    because they must give the same finished site."""
    return site_builds(builder)


@pytest.fixture(scope="session")
def site_server(built_site):
    """The built site over real HTTP with the headers Netlify would send."""
    from formsvc.localsite import StaticSite

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

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def site_pages(site_dir: Path) -> list[str]:
    """Every page of a built site as the address a reader asks for ("/", "/how-it-works/"),
    found by walking the build's HTML files rather than a list kept by hand. 404.html and
    formsvc-shell.html are frames for other addresses (any missing page, the form), not pages."""
    pages = []
    for path in sorted(Path(site_dir).rglob("*.html")):
        rel = path.relative_to(site_dir).as_posix()
        if rel in {"404.html", "formsvc-shell.html"}:
            continue
        if path.name == "index.html":
            parent = path.parent.relative_to(site_dir).as_posix()
            pages.append("/" if parent == "." else f"/{parent}/")
        else:
            pages.append(f"/{rel}")
    return pages


def axe_violations(page) -> str:
    """axe-core's report of WCAG 2.0/2.1/2.2 A and AA violations on the page as it is now; "" if none."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    if results.violations_count == 0:
        return ""
    try:
        return results.generate_report()
    except TypeError:  # its report cannot print a target inside a shadow root (Zensical's search)
        return "\n".join(f"{v['id']}: {v['help']}: {n['target']} {n['html'][:120]} {n.get('failureSummary', '')}"
                         for v in results.response["violations"] for n in v["nodes"])


@pytest.fixture
def make_form_site(built_site, make_form_app):
    """``make_form_site(**config)``: the built site and a form app made with ``config`` (for example
    RATELIMIT_POST="1 per minute") on one origin over real HTTP. The server has ``url`` and ``app``."""
    from formsvc.localsite import OneOrigin, StaticSite

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


# ---------------------------------------------------------------- Delivery: outbox, mailer, worker, health
# A real SMTP server over TCP (aiosmtpd), real SQLite files in tmp_path.

import asyncio  # noqa: E402  (kept with the fixtures that use them)
import email  # noqa: E402
import email.policy  # noqa: E402

from aiosmtpd.controller import Controller  # noqa: E402


class SMTPInbox:
    """aiosmtpd handler that keeps what it accepts.

    Set ``reply`` to make it answer "451 ..." or "550 ..." instead of accepting, and
    ``delay`` (seconds) to make it slow. An accepted message is recorded before the
    delay, as a real relay may already have it when the client gives up waiting.
    """

    def __init__(self):
        self.envelopes = []
        self.reply = "250 Message accepted for delivery"
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):
        if self.reply.startswith("250"):
            self.envelopes.append(envelope)
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.reply

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.original_content, policy=email.policy.default) for e in self.envelopes]


class SMTPServer:
    """``options`` go to aiosmtpd's Controller (``ssl_context=``, ``tls_context=``, ...)."""

    def __init__(self, port: int | None = None, **options):
        self.host = "127.0.0.1"
        self.port = port or free_port()  # Controller(port=0) does not work
        self.inbox = SMTPInbox()
        self.controller = Controller(self.inbox, hostname=self.host, port=self.port, **options)

    def start(self) -> "SMTPServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


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


def sample_answers(**changes) -> dict[str, str]:
    """Answers as the web half stores them: every key, all strings."""
    answers = {
        "name": "Siân Łukasz محمد",
        "contact_method": "email",
        "email": "sian@example.org",
        "phone": "07700 900123",
        "leave_message": "no",
        "say_who_we_are": "yes",
        "call_times": "Weekdays after 6pm",
        "crime_reference": "CR/12345/25",
        "relationship": "harmed",
        "message": "I would like to talk about meeting him.\r\nNot sure yet.\r\n\r\nThank you.",
    }
    answers.update(changes)
    return answers


@pytest.fixture
def answers():
    return sample_answers


@pytest.fixture
def outbox(tmp_path):
    from formsvc.outbox import Outbox

    return Outbox(tmp_path / "data" / "outbox.sqlite3", mail_from="Hub form <enquiries@rj.example>")


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

def valid_answers(**changes) -> dict[str, str]:
    """What a person might type into the form: valid as it stands."""
    answers = {
        "name": "Siân",
        "contact_method": "phone",
        "email": "",
        "phone": "07700 900 982",
        "leave_message": "no",
        "say_who_we_are": "no",
        "call_times": "Weekday mornings before 10am",
        "crime_reference": "CR/0042/25",
        "relationship": "harmed",
        "message": "I would like to know more about meeting him.\r\nNot sure yet.",
    }
    answers.update(changes)
    return answers


class FormBrowser:
    """Just enough of a browser for the enquiry form: one page at a time, cookies kept."""

    def __init__(self, client):
        self.client = client
        self.response = None
        self.page = None

    def _load(self, response):
        from bs4 import BeautifulSoup

        self.response = response
        self.page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        return response

    def get(self, path: str = "/enquiry/", **kwargs):
        return self._load(self.client.get(path, **kwargs))

    def form(self):
        """The enquiry form (the site's shell has a search form too)."""
        form = self.page.select_one("form.fs-form")
        assert form is not None, "no enquiry form on this page"
        return form

    def values(self) -> dict[str, str]:
        """What the page's form would send as it stands."""
        form = self.form()
        values: dict[str, str] = {}
        for field in form.find_all(["input", "textarea"]):
            name = field.get("name")
            if not name:
                continue
            if field.name == "textarea":
                values[name] = field.get_text()
            elif field.get("type") == "radio":
                if field.has_attr("checked"):
                    values[name] = field["value"]
                else:
                    values.setdefault(name, "")
            else:
                values[name] = field.get("value", "")
        return values

    def answers(self) -> dict[str, str]:
        """The person's answers as the page shows them (no tokens, no honeypot)."""
        return {k: v for k, v in self.values().items() if k not in {"csrf_token", "form_token", "website"}}

    def submit(self, drop: tuple[str, ...] = (), **changes):
        data = {**self.values(), **changes}
        for name in drop:
            data.pop(name, None)
        action = self.form().get("action") or "/enquiry/"
        return self._load(self.client.post(action, data=data))

    def follow(self):
        assert self.response.status_code in (301, 302, 303, 307, 308), self.response.status_code
        return self.get(self.response.headers["Location"])

    def send(self, **answers):
        """Open the form, fill it in with ``answers`` and send it."""
        self.get()
        return self.submit(**answers)

    # What the page says
    @property
    def title(self) -> str:
        return self.page.title.get_text()

    def error_links(self) -> list[tuple[str, str]]:
        summary = self.page.select_one(".fs-error-summary")
        if summary is None:
            return []
        return [(a["href"], a.get_text(strip=True)) for a in summary.select("a")]

    def notice(self) -> str:
        notice = self.page.select_one(".fs-notice")
        return notice.get_text(" ", strip=True) if notice else ""

    def reference(self) -> str:
        return self.page.select_one(".fs-panel__reference").get_text(strip=True)


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
