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


def build_site(dest: Path, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1", **env}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(dest)],
        cwd=ROOT, env=environment, capture_output=True, text=True,
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, neutral_site) -> Path:
    """The site, built once with --strict, its exit button pointing at neutral_site."""
    dest = tmp_path_factory.mktemp("site")
    result = build_site(dest, EXIT_URL=neutral_site.url)
    assert result.returncode == 0, result.stdout + result.stderr
    return dest


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
