"""The built site: building it, finding its pages, the exit's destination, axe-core."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import ROOT
from .net import free_port

#: The site builders every site test runs over: Material for MkDocs today, Zensical next.
BUILDERS = ["mkdocs", "zensical"]


def build_site(dest: Path, builder: str = "mkdocs", config_file: Path | None = None, **env) -> subprocess.CompletedProcess:
    """mkdocs: `mkdocs build --strict` as Netlify runs it (its hooks finish the site);
    zensical: the site pipeline's plain command around `zensical build` (make build BUILDER=zensical).
    config_file: another mkdocs.yml than the repository's (a test's own small site)."""
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1", **env}
    command = ([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(dest)] if builder == "mkdocs"
               else [sys.executable, "-m", "sitebuild", "build", "--builder", builder, "--site-dir", str(dest)])
    if config_file is not None:
        command += ["-f", str(config_file)]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)


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


def site_frames(site_dir: Path, name: str) -> list[str]:
    """Every language's copy of a frame (``name``: "404.html" or "formsvc-shell.html") as its
    address: ["/404.html", "/cy/404.html"]."""
    return sorted("/" + path.relative_to(site_dir).as_posix() for path in Path(site_dir).rglob(name))


WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def site_pages(site_dir: Path) -> list[str]:
    """Every page of a built site as the address a reader asks for ("/", "/how-it-works/"),
    found by walking the build's HTML files rather than a list kept by hand. 404.html and
    formsvc-shell.html are frames for other addresses (any missing page, the form), not pages,
    in every language's folder (cy/404.html) too."""
    pages = []
    for path in sorted(Path(site_dir).rglob("*.html")):
        rel = path.relative_to(site_dir).as_posix()
        if path.name in {"404.html", "formsvc-shell.html"}:
            continue
        if path.name == "index.html":
            parent = path.parent.relative_to(site_dir).as_posix()
            pages.append("/" if parent == "." else f"/{parent}/")
        else:
            pages.append(f"/{rel}")
    return pages


def put_in(page, name: str, script: str) -> None:
    """Put a checker's script (which defines the global ``name``) into the page as it is now, once.

    Through the DevTools protocol (``page.evaluate``), which the page's own Content-Security-Policy does
    not govern: the page is checked under the policy it really has, with no script element added to
    what the checkers look at, and no context that bypasses the policy. Once: axe_playwright_python's
    Axe.run puts its 500 KB in again on every run (at two widths, twice)."""
    if not page.evaluate(f"typeof {name} !== 'undefined'"):
        page.evaluate(script)


def axe_violations(page) -> str:
    """axe-core's report of WCAG 2.0/2.1/2.2 A and AA violations on the page as it is now; "" if none."""
    from axe_playwright_python.base import AXE_SCRIPT, AxeResults

    # resultTypes: the violations in full, one example of each pass (Axe.run's default, lost when
    # options are given); every node that passed, sent back, was most of its time.
    put_in(page, "axe", AXE_SCRIPT)
    results = AxeResults(page.evaluate("options => axe.run(document, options)",
                                       {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}))
    if results.violations_count == 0:
        return ""
    try:
        return results.generate_report()
    except TypeError:  # its report cannot print a target inside a shadow root (Zensical's search)
        return "\n".join(f"{v['id']}: {v['help']}: {n['target']} {n['html'][:120]} {n.get('failureSummary', '')}"
                         for v in results.response["violations"] for n in v["nodes"])


def site_extra() -> dict:
    """The site's settings as the build fills them in (mkdocs.yml, else contract/site_settings.py):
    the facts and the force's settings that the form's pages get from a built site's manifest (SITE_EXTRA)."""
    from contract import manifest
    from sitebuild.settings import read_config, site_values

    extra = site_values(read_config(ROOT / "mkdocs.yml").get("extra"), environ={})
    return {key: extra[key] for key in manifest.PASSED_THROUGH if extra.get(key) is not None}
