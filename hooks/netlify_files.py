"""Write Netlify's _headers and _redirects into the built site.

_headers carries the Content-Security-Policy. Its script-src lists a sha256
hash for each distinct inline script in the built pages (Material emits a
few), computed here from the build and never by hand, so upgrading Material
cannot silently break the site or tempt anyone to add 'unsafe-inline'.
The other security headers never change and live in netlify.toml.

A page may also need frames from another site: the Videos page, when a video is
kept by YouTube or Vimeo (hooks/videos.py). Such a page says so in its HTML: the
button that loads the player carries data-embed-src="https://...". That origin,
and nothing else, is added as frame-src to the policy of that page alone.

How that is written for Netlify: Netlify applies every _headers rule whose path
matches the requested address (not the file it serves), and a header set by
several matching rules is sent once with their values joined by ", " (rules for
the very same path are merged, the later winning). For Content-Security-Policy
a comma separates policies, and the browser enforces all of them, so a rule for
/videos/ can only add restrictions to /*, never lift them; and no pattern can
leave one page out of /*. So when some page needs frames:
- /* (every file, and unknown addresses, which show 404.html) gets the policy
  with every such origin in frame-src, and 404.html itself carries a <meta>
  policy "frame-src 'self'" that takes it away again;
- every built page gets a rule of its own with exactly its policy.
On a page both rules apply, and since the page's policy is the stricter one,
what the browser enforces is the page's own policy, whether Netlify joins the
two values (production) or lets the later rule win (netlify dev).
formsvc/localsite.py serves the files the same way for the tests.
Without such pages _headers is a single /* rule, as before.

_redirects sends /enquiry/* to the enquiry service. netlify.toml cannot read
environment variables, so the service's address comes from FORMSVC_ORIGIN in
the deploy's environment and is written here. The rule is a signed proxy
("Sign=FORMSVC_NETLIFY_SIGNING_SECRET", the name of the variable, never its
value): Netlify adds an X-Nf-Sign JWT made with that secret to every proxied
request, and the service (formsvc/netlify.py) refuses requests without one.
Netlify's own _redirects parser reads "Sign=NAME" (or "signed=NAME") into the
same `signed` setting as netlify.toml's `signed = "NAME"`.
"""
from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from mkdocs.exceptions import PluginError

# The environment variable (in Netlify and in the service) holding the proxy's signing secret.
SIGNING_SECRET_ENV = "FORMSVC_NETLIFY_SIGNING_SECRET"


def _load_csp():
    """formsvc/csp.py, by its path: importing the formsvc package would need Flask."""
    path = Path(__file__).resolve().parent.parent / "formsvc" / "csp.py"
    spec = importlib.util.spec_from_file_location("formsvc_csp", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


csp = _load_csp()


class _InlineScripts(HTMLParser):
    """Collect the text of executable inline <script> elements, and the data-embed-src
    addresses of the players a page may load from another site."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self.embeds: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("data-embed-src"):
            self.embeds.append(attrs["data-embed-src"])
        if tag != "script":
            return
        kind = (attrs.get("type") or "text/javascript").lower()
        executable = kind in {"text/javascript", "application/javascript", "module"}
        if "src" not in attrs and executable:
            self._current = []

    def handle_data(self, data):
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


def inline_scripts(html: str) -> list[str]:
    parser = _InlineScripts()
    parser.feed(html)
    parser.close()
    return parser.scripts


def script_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(hashes, frame_origins=()) -> str:
    return csp.policy(hashes, frame_origins)


def frame_origin(url: str, page: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise PluginError(f"{page}: a player may only be loaded from an https:// address (found {url!r}).")
    return f"https://{parts.netloc.lower()}"


def page_addresses(rel: str) -> list[str]:
    """The addresses Netlify serves a built HTML file at (rel: its path in the site)."""
    if rel == "index.html":
        return ["/", "/index.html"]
    if rel.endswith("/index.html"):
        folder = rel[: -len("index.html")]
        return [f"/{folder}", f"/{folder.rstrip('/')}", f"/{rel}"]
    return [f"/{rel}", f"/{rel[: -len('.html')]}"]


NOT_FOUND_PAGE = "404.html"
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


def on_post_build(config):
    site = Path(config.site_dir)
    hashes, frames = set(), {}
    pages = sorted(page.relative_to(site).as_posix() for page in site.rglob("*.html"))
    for rel in pages:
        parser = _InlineScripts()
        parser.feed((site / rel).read_text(encoding="utf-8"))
        parser.close()
        hashes.update(script_hash(text) for text in parser.scripts)
        if parser.embeds:
            frames[rel] = {frame_origin(url, rel) for url in parser.embeds}

    rules = [("/*", content_security_policy(hashes, set().union(*frames.values())))]
    if frames:
        rules += [(address, content_security_policy(hashes, frames.get(rel, ())))
                  for rel in pages for address in page_addresses(rel)]
        not_found = site / NOT_FOUND_PAGE
        if not_found.exists() and NOT_FOUND_PAGE not in frames:
            text = not_found.read_text(encoding="utf-8")
            meta = '<meta http-equiv="Content-Security-Policy" content="frame-src \'self\'">'
            not_found.write_text(_HEAD.sub(lambda m: m.group(0) + meta, text, count=1), encoding="utf-8")
    (site / "_headers").write_text(
        "# Written by hooks/netlify_files.py at build time. Do not edit.\n"
        + "".join(f"{address}\n  Content-Security-Policy: {policy}\n" for address, policy in rules),
        encoding="utf-8",
    )

    origin = os.environ.get("FORMSVC_ORIGIN", "").rstrip("/")
    if not origin:
        if os.environ.get("NETLIFY") == "true":
            raise PluginError(
                "FORMSVC_ORIGIN is not set. Set it in Netlify's environment variables to the "
                "enquiry service's address (for example https://forms.example.org), or the "
                "enquiry form will not work."
            )
        return
    if not origin.startswith("https://"):
        raise PluginError(f"FORMSVC_ORIGIN must start with https:// (found {origin!r}).")
    if os.environ.get("NETLIFY") == "true" and not os.environ.get(SIGNING_SECRET_ENV):
        raise PluginError(
            f"{SIGNING_SECRET_ENV} is not set. Set it in Netlify's environment variables to the "
            "same long random value as the enquiry service's, so Netlify signs the requests it "
            "passes on and the service can refuse everyone else."
        )
    (site / "_redirects").write_text(
        "# Written by hooks/netlify_files.py at build time. Do not edit.\n"
        "# The enquiry form is served by formsvc; the reader sees one site.\n"
        f"# Netlify signs each proxied request with the secret in ${SIGNING_SECRET_ENV}.\n"
        f"/enquiry/*  {origin}/enquiry/:splat  200!  Sign={SIGNING_SECRET_ENV}\n",
        encoding="utf-8",
    )
