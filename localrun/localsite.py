"""Run the whole thing on one origin, as Netlify does in production.

    python -m localrun                   # after `mkdocs build` (`make run` does both)

serves the built site (site/) with the same headers Netlify would send
(netlify.toml's [[headers]] plus the build's _headers), the enquiry form at
/enquiry/ from the Flask app, and starts the delivery worker, which writes
mail into a local Maildir unless FORMSVC_SMTP_HOST is set.

StaticSite is also what the browser tests serve the site with, so the
headers tested are the headers deployed.
"""
from __future__ import annotations

import argparse
import functools
import gzip
import mimetypes
import os
import re
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

from werkzeug.wrappers import Request, Response

ROOT = Path(__file__).resolve().parent.parent


def header_rules(site_dir: Path, netlify_toml: Path) -> list[tuple[str, dict[str, str]]]:
    """(path pattern, headers) from the built _headers file, then netlify.toml.

    In that order because, for the very same path and header, netlify.toml's value
    is the one Netlify uses (see headers_for)."""
    rules: list[tuple[str, dict[str, str]]] = []
    headers_file = site_dir / "_headers"
    if headers_file.exists():
        pattern, values = None, {}
        for raw in headers_file.read_text(encoding="utf-8").splitlines():
            line = raw.rstrip()
            if not line or line.lstrip().startswith("#"):
                continue
            if not raw[0].isspace():
                if pattern:
                    rules.append((pattern, values))
                pattern, values = line.strip(), {}
            else:
                name, _, value = line.strip().partition(":")
                name, value = name.strip(), value.strip()
                # The same header twice under one path: one header, the values joined.
                values[name] = f"{values[name]}, {value}" if name in values else value
        if pattern:
            rules.append((pattern, values))
    if netlify_toml.exists():
        config = tomllib.loads(netlify_toml.read_text(encoding="utf-8"))
        for rule in config.get("headers", []):
            rules.append((rule["for"], dict(rule.get("values", {}))))
    return rules


def not_found_rules(netlify_toml: Path) -> list[tuple[str, str]]:
    """(path pattern, page) for each of netlify.toml's 404 redirects, in order: the first
    that matches an address with no file gives its page (the Welsh one under /cy/)."""
    if not netlify_toml.exists():
        return []
    config = tomllib.loads(netlify_toml.read_text(encoding="utf-8"))
    return [(rule["from"], rule["to"]) for rule in config.get("redirects", []) if rule.get("status") == 404]


@functools.lru_cache(maxsize=512)
def _pattern(path_pattern: str) -> re.Pattern:
    """A Netlify path pattern: * matches anything (slashes too), :name one path segment."""
    parts = re.split(r"(\*|:[A-Za-z_][A-Za-z0-9_]*)", path_pattern)
    return re.compile("".join(".*" if p == "*" else "[^/]+" if p.startswith(":") else re.escape(p) for p in parts))


def headers_for(path: str, rules) -> dict[str, str]:
    """The headers Netlify sends for a request to ``path``, as Netlify does it:

    - rules for the very same path are merged first, a later value replacing an earlier
      one (so netlify.toml's beats _headers', which header_rules lists first);
    - then every rule whose pattern matches the requested address applies, and a header
      set by more than one of them is sent once, the values joined by ", ".

    For Content-Security-Policy that join is a list of policies, all enforced: a rule
    for one page can add restrictions to /*, never lift them (sitebuild/netlify.py).
    """
    merged: dict[str, dict[str, str]] = {}
    for pattern, values in rules:
        merged.setdefault(pattern, {}).update(values)
    headers: dict[str, str] = {}
    for pattern, values in merged.items():
        if _pattern(pattern).fullmatch(path):
            for name, value in values.items():
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


# Netlify compresses text on the way out; so does StaticSite, so that what the browser
# tests and the Lighthouse benchmark (bench/lighthouse.py) measure is what readers download.
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/xml", "image/svg+xml")


@functools.lru_cache(maxsize=256)
def _gzipped(file: Path, mtime_ns: int) -> bytes:
    return gzip.compress(file.read_bytes(), compresslevel=9, mtime=0)


class StaticSite:
    """A WSGI app serving a built MkDocs site the way Netlify does."""

    def __init__(self, site_dir: str | os.PathLike, netlify_toml: str | os.PathLike | None = None):
        self.site_dir = Path(site_dir).resolve()
        netlify_toml = Path(netlify_toml or ROOT / "netlify.toml")
        self.rules = header_rules(self.site_dir, netlify_toml)
        self.not_found = not_found_rules(netlify_toml)

    def _not_found_page(self, path: str) -> Path:
        """The 404 page Netlify gives ``path``: the first matching rule's whose page exists."""
        for pattern, page in self.not_found:
            if _pattern(pattern).fullmatch(path) and (file := self._resolve(page)) is not None:
                return file
        return self.site_dir / "404.html"

    def _resolve(self, path: str) -> Path | None:
        if "\x00" in path:
            return None  # no file has a NUL in its name (and the OS refuses to look one up)
        candidate = (self.site_dir / path.lstrip("/")).resolve()
        if self.site_dir not in candidate.parents and candidate != self.site_dir:
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path
        if request.method not in {"GET", "HEAD"}:
            response = Response("Method not allowed", status=405)
        elif "\x00" not in path and (self.site_dir / path.lstrip("/")).is_dir() and not path.endswith("/"):
            response = Response(status=301, headers={"Location": path + "/"})
        else:
            file = self._resolve(path)
            status = 200
            if file is None or file.name.startswith("_"):
                file, status = self._not_found_page(path), 404
            mimetype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            if mimetype.startswith("text/") or mimetype in {"application/javascript", "application/json"}:
                mimetype += "; charset=utf-8"
            # The site's files are small: read whole, so no file is left open when a
            # browser gives up on a request half-way.
            body, encoding = file.read_bytes(), None
            if mimetype.startswith(COMPRESSIBLE) and request.accept_encodings["gzip"]:
                body, encoding = _gzipped(file, file.stat().st_mtime_ns), "gzip"
            response = Response(body, status=status, content_type=mimetype)
            if mimetype.startswith(COMPRESSIBLE):
                response.vary.add("Accept-Encoding")
            if encoding:
                response.content_encoding = encoding
        response.headers.update(headers_for(path, self.rules))
        return response(environ, start_response)


class OneOrigin:
    """/enquiry/... (and /cy/enquiry/..., the form in another language) goes to the enquiry
    service; everything else is the static site.

    Netlify proxies only /enquiry/* and /<code>/enquiry/* (sitebuild/netlify.py), so the
    service's other routes (such as /healthz) are not reachable through the public origin here either.
    """

    FORM = re.compile(r"/(?:[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*/)?enquiry(?:/|$)")

    def __init__(self, site, service):
        self.site, self.service = site, service

    def __call__(self, environ, start_response):
        if self.FORM.match(environ.get("PATH_INFO", "")):
            return self.service(environ, start_response)
        return self.site(environ, start_response)


def create_local_app(site_dir: str | os.PathLike = ROOT / "site"):
    from formsvc import create_app

    service = create_app({"SITE_DIR": str(site_dir)})
    return OneOrigin(StaticSite(site_dir), service), service


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--site-dir", default=str(ROOT / "site"))
    args = parser.parse_args(argv)

    os.environ.setdefault("FORMSVC_ENV", "development")
    if not (Path(args.site_dir) / "index.html").exists():
        print(f"No built site in {args.site_dir}: run `mkdocs build` first.", file=sys.stderr)
        return 1
    app, service = create_local_app(args.site_dir)

    # The worker runs as its own process, as in production.
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "formsvc", "deliver"], env=os.environ.copy())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    data_dir = Path(service.config["DATA_DIR"])
    where = (
        f"SMTP {service.config['SMTP_HOST']}:{service.config['SMTP_PORT']} to {service.config['HUB_INBOX']}"
        if service.config["SMTP_HOST"]
        else f"the local Maildir {data_dir / 'maildir'} (new messages appear in {data_dir / 'maildir' / 'new'})"
    )
    print(f"\n  Site:      http://{args.host}:{args.port}/")
    print(f"  Form:      http://{args.host}:{args.port}/enquiry/  (in Welsh: /cy/enquiry/)")
    print(f"  Mail goes: {where}\n", flush=True)

    from werkzeug.serving import run_simple

    try:
        run_simple(args.host, args.port, app, threaded=True)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
