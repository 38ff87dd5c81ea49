"""Response headers for every response, a session cookie only where the form is, and
redirects that never name a host.

Netlify's [[headers]] rules cover only files Netlify serves itself, so the
service sends its own. The values match netlify.toml, and the CSP is the site's
own (contract/csp.py); tests/test_security.py checks that they stay equal.
"""
from __future__ import annotations

import functools
import logging
import re
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, redirect, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.routing import RequestRedirect

from contract import csp

log = logging.getLogger(__name__)

STATIC_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: Flask-WTF's CSRF check on HTTPS needs a same-origin Referer.
    # Nothing is sent to other sites, including the exit button's destination.
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": (
        "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
        "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), "
        "publickey-credentials-get=(), usb=(), browsing-topics=()"
    ),
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}

_HASH_RE = re.compile(r"^'?(sha256|sha384|sha512)-[A-Za-z0-9+/]+={0,2}'?$")


def script_hashes(values) -> list[str]:
    """The CSP source expressions for ``SHELL_SCRIPT_HASHES``, quoted; malformed ones are left out."""
    hashes = []
    for value in values or []:
        value = str(value).strip()
        if not _HASH_RE.match(value):
            log.warning("Ignoring a malformed script hash in SHELL_SCRIPT_HASHES")
            continue
        hashes.append("'" + value.strip("'") + "'")
    return sorted(set(hashes))


def content_security_policy(hashes, style_hashes=()) -> str:
    return _policy(tuple(hashes or ()), tuple(style_hashes or ()))


@functools.lru_cache(maxsize=16)
def _policy(hashes: tuple[str, ...], style_hashes: tuple[str, ...] = ()) -> str:
    # Cached: the hashes change only when the site is rebuilt, so each response
    # reuses the header (and a malformed hash is reported once, not per request).
    # The site's own policy (contract/csp.py), with the shell's inline-script and -style
    # hashes from the site's manifest (formsvc/shell.py).
    return csp.policy(script_hashes(hashes), style_hashes=script_hashes(style_hashes))


def is_form_page(path: str) -> bool:
    """The enquiry pages (not their static files): private, never cached."""
    return path.startswith("/enquiry/") and not path.startswith("/enquiry/static/")


def add_security_headers(response):
    response.headers["Content-Security-Policy"] = content_security_policy(
        current_app.config["SHELL_SCRIPT_HASHES"], current_app.config["SHELL_STYLE_HASHES"]
    )
    for name, value in STATIC_HEADERS.items():
        response.headers[name] = value
    if is_form_page(request.path) or response.status_code in _REDIRECTS:
        # A redirect too: one a shared cache kept for a crafted request could send others anywhere.
        response.headers["Cache-Control"] = "no-store"
    return response


_REDIRECTS = {301, 302, 303, 307, 308}


def relative_redirect():
    """Werkzeug's own redirects (the slash after /enquiry, "//" in a path) as a path, not a URL.

    Werkzeug builds them from the request's Host header: "Host: evil.example" got "Location:
    http://evil.example/enquiry/". The path and query alone keep the browser on the site it
    asked, whatever the Host said. Runs before the view, where Flask would raise the redirect.
    """
    error = request.routing_exception
    if not isinstance(error, RequestRedirect):
        return None
    target = urlsplit(error.new_url)
    # One leading slash: "//host/..." would be another site.
    location = "/" + target.path.lstrip("/") + (f"?{target.query}" if target.query else "")
    return redirect(location, error.code)


BAD_HOST = "formsvc.bad_host"


class HostGuard:
    """A Host header Werkzeug cannot read ("." or a name with an empty or over-long label) leaves
    Flask with no URL adapter, and then even the 400 page fails to build its links: a 500. Such a
    Host is set aside here (the server's own name stands in; nothing builds an address from it,
    redirects being relative) and refuse_bad_host answers our 400 page."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        host = environ.get("HTTP_HOST")
        if host is not None and not readable_host(host):
            environ["HTTP_HOST"] = environ.get("SERVER_NAME") or "localhost"
            environ[BAD_HOST] = True
        return self.app(environ, start_response)


def readable_host(host: str) -> bool:
    """Whether Werkzeug's router can take this Host (it encodes it as IDNA, as here)."""
    try:
        host.lower().encode("idna")
    except UnicodeError:
        return False
    return True


def refuse_bad_host():
    if request.environ.get(BAD_HOST):
        abort(400)
    return None


class FormOnlySessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, saved only on responses under SESSION_COOKIE_PATH.

    The cookie holds the CSRF secret (and the last reference sent) and belongs to
    the form's pages. Whatever a page elsewhere does (an error page, /healthz, the
    site shell calling csrf_token()), no cookie is set there.

    In another language the form is at /<code>/enquiry/ (formsvc/i18n.py): its cookie is the
    same one, at that address, so it never goes to the form in the other language or the site.
    """

    def get_cookie_path(self, app):
        return request.script_root + super().get_cookie_path(app)

    def save_session(self, app, session, response):
        if not request.path.startswith(super().get_cookie_path(app)):
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = FormOnlySessionInterface()
    app.before_request(refuse_bad_host)
    app.before_request(relative_redirect)
    # after_request runs for error responses too (404, 405, 413, 429, 500, CSRF).
    app.after_request(add_security_headers)
