"""Write Netlify's _headers and _redirects into the built site.

_headers carries the Content-Security-Policy. Its script-src lists a sha256
hash for each distinct inline script in the built pages (Material emits a
few), computed here from the build and never by hand, so upgrading Material
cannot silently break the site or tempt anyone to add 'unsafe-inline'.
The other security headers never change and live in netlify.toml.

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
import os
from html.parser import HTMLParser
from pathlib import Path

from mkdocs.exceptions import PluginError

# The environment variable (in Netlify and in the service) holding the proxy's signing secret.
SIGNING_SECRET_ENV = "FORMSVC_NETLIFY_SIGNING_SECRET"

# Everything but script-src. Kept in one place; formsvc/security.py sends the same
# policy from the service (with the hashes of the form's shell).
CSP_DIRECTIVES = (
    "default-src 'self'",
    "{script_src}",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
)


class _InlineScripts(HTMLParser):
    """Collect the text of executable inline <script> elements."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag != "script":
            return
        attrs = dict(attrs)
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


def content_security_policy(hashes) -> str:
    script_src = " ".join(["script-src 'self'", *sorted(set(hashes))])
    return "; ".join(d.format(script_src=script_src) for d in CSP_DIRECTIVES)


def on_post_build(config):
    site = Path(config.site_dir)
    hashes = set()
    for page in site.rglob("*.html"):
        for text in inline_scripts(page.read_text(encoding="utf-8")):
            hashes.add(script_hash(text))
    (site / "_headers").write_text(
        "# Written by hooks/netlify_files.py at build time. Do not edit.\n"
        "/*\n"
        f"  Content-Security-Policy: {content_security_policy(hashes)}\n",
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
