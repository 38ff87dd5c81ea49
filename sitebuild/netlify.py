"""Netlify's _headers and _redirects, written into the finished site.

_headers carries the Content-Security-Policy. Its script-src lists a sha256
hash for each distinct inline script in the built pages (Material emits a
few), computed here from the build and never by hand, so upgrading Material
cannot silently break the site or tempt anyone to add 'unsafe-inline'.
The other security headers never change and live in netlify.toml.

(Each page also carries the same policy in a <meta> element, see finish.py, so a
host that sends no headers still enforces it.)

A page may also need frames from another site: the Videos page, when a video is
kept by YouTube or Vimeo (sitebuild/videos/). Such a page says so in its HTML: the
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
  with every such origin in frame-src, and 404.html's own <meta> policy (which
  has no frame origins) takes it away again;
- every built page gets a rule of its own with exactly its policy.
On a page both rules apply, and since the page's policy is the stricter one,
what the browser enforces is the page's own policy, whether Netlify joins the
two values (production) or lets the later rule win (netlify dev).
localrun/localsite.py serves the files the same way for the tests.
Without such pages _headers is a single /* rule, as before.

_redirects sends /enquiry/* to the enquiry service, and /cy/enquiry/* (each other language's form). netlify.toml cannot read
environment variables, so the service's address comes from FORMSVC_ORIGIN in
the deploy's environment and is written here. The rule is a signed proxy
("Sign=FORMSVC_NETLIFY_SIGNING_SECRET", the name of the variable, never its
value): Netlify adds an X-Nf-Sign JWT made with that secret to every proxied
request, and the service (formsvc/netlify.py) refuses requests without one.
Netlify's own _redirects parser reads "Sign=NAME" (or "signed=NAME") into the
same `signed` setting as netlify.toml's `signed = "NAME"`.
"""
from __future__ import annotations

from pathlib import Path

from contract import csp

from . import BuildError
from .settings import Settings

# The environment variable (in Netlify and in the service) holding the proxy's signing secret.
SIGNING_SECRET_ENV = "FORMSVC_NETLIFY_SIGNING_SECRET"
HEADERS_FILE = "_headers"
REDIRECTS_FILE = "_redirects"
WRITTEN_BY = "# Written by the site's finishing step (sitebuild/netlify.py). Do not edit.\n"


def page_addresses(rel: str) -> list[str]:
    """The addresses Netlify serves a built HTML file at (rel: its path in the site)."""
    if rel == "index.html":
        return ["/", "/index.html"]
    if rel.endswith("/index.html"):
        folder = rel[: -len("index.html")]
        return [f"/{folder}", f"/{folder.rstrip('/')}", f"/{rel}"]
    return [f"/{rel}", f"/{rel[: -len('.html')]}"]


def write_headers(site: Path, script_hashes, style_hashes, frames: dict[str, set[str]], pages: list[str]) -> None:
    """frames: the frame origins of each page (by its path in the site) that embeds a player."""
    everywhere = set().union(*frames.values()) if frames else set()
    rules = [("/*", csp.policy(script_hashes, everywhere, style_hashes))]
    if frames:
        rules += [(address, csp.policy(script_hashes, frames.get(rel, ()), style_hashes))
                  for rel in pages for address in page_addresses(rel)]
    (site / HEADERS_FILE).write_text(
        WRITTEN_BY + "".join(f"{address}\n  Content-Security-Policy: {policy}\n" for address, policy in rules),
        encoding="utf-8")


def write_redirects(site: Path, settings: Settings) -> None:
    origin = settings.formsvc_origin
    if not origin:
        if settings.on_netlify:
            raise BuildError(
                "FORMSVC_ORIGIN is not set. Set it in Netlify's environment variables to the "
                "enquiry service's address (for example https://forms.example.org), or the "
                "enquiry form will not work.")
        return
    if not origin.startswith("https://"):
        raise BuildError(f"FORMSVC_ORIGIN must start with https:// (found {origin!r}).")
    if settings.on_netlify and not settings.signing_secret_set:
        raise BuildError(
            f"{SIGNING_SECRET_ENV} is not set. Set it in Netlify's environment variables to the "
            "same long random value as the enquiry service's, so Netlify signs the requests it "
            "passes on and the service can refuse everyone else.")
    # The form in each other language of the site too (/cy/enquiry/, formsvc/i18n.py), before
    # netlify.toml's /cy/* rule for the Welsh 404 page (Netlify reads _redirects first).
    rules = "".join(f"/{prefix}enquiry/*  {origin}/{prefix}enquiry/:splat  200!  Sign={SIGNING_SECRET_ENV}\n"
                    for prefix in [language.prefix for language in settings.languages])
    (site / REDIRECTS_FILE).write_text(
        WRITTEN_BY
        + "# The enquiry form is served by formsvc; the reader sees one site.\n"
        f"# Netlify signs each proxied request with the secret in ${SIGNING_SECRET_ENV}.\n"
        + rules,
        encoding="utf-8")
