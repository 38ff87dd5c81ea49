"""Only Netlify may reach the form: verify the signed proxy's ``X-Nf-Sign``.

The site's ``_redirects`` rule proxies ``/enquiry/*`` to this service with
``Sign=FORMSVC_NETLIFY_SIGNING_SECRET`` (sitebuild/netlify.py). Netlify then
adds to every proxied request an ``X-Nf-Sign`` header: a JWT signed with HS256
using that secret, with ``iss: netlify`` and an expiry a few minutes ahead.

When ``NETLIFY_SIGNING_SECRET`` is set, a request without a valid signature
(someone calling the origin directly, bypassing Netlify) gets a friendly 403
page, before CSRF or rate limits are looked at, so it is not counted against
anyone. Only after the signature checks is Netlify's
``X-Nf-Client-Connection-Ip`` trusted as the client's address (the rate-limit
key); without a signature that header means nothing and is ignored.

``/healthz`` stays reachable without a signature: Netlify proxies only
``/enquiry/*``, so a monitor could never reach it otherwise, and it says
nothing personal (counts only).

Without a secret (``make run``, tests, a deploy not behind Netlify) nothing
here happens.
"""
from __future__ import annotations

import ipaddress
import logging

import jwt
from flask import Flask, abort, request

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Nf-Sign"
CLIENT_IP_HEADER = "X-Nf-Client-Connection-Ip"
ISSUER = "netlify"
ALGORITHMS = ["HS256"]
#: Clock difference we tolerate between Netlify's edge and us.
LEEWAY_SECONDS = 30
#: HS256 with a shorter secret can be brute-forced (RFC 7518, section 3.2).
MIN_SECRET_LENGTH = 32
#: Paths that never come through Netlify's proxy (see the module docstring).
UNSIGNED_PATHS = frozenset({"/healthz"})

#: WSGI environ key: why the request was refused ("missing", "expired", ...).
REFUSED = "formsvc.netlify_refused"


def signature_problem(token: str | None, secret: str) -> str | None:
    """None if ``token`` is a valid, unexpired Netlify signature; otherwise a short reason."""
    if not token:
        return "missing"
    try:
        jwt.decode(
            token,
            secret,
            algorithms=ALGORITHMS,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        return "expired"
    except jwt.InvalidIssuerError:
        return "wrong issuer"
    except jwt.MissingRequiredClaimError:
        return "missing claim"
    except jwt.InvalidSignatureError:
        return "bad signature"
    except jwt.PyJWTError:
        return "malformed"
    return None


def client_address(value: str | None) -> str | None:
    """The address in Netlify's header, if it is one address (IPv4 or IPv6)."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


class SignedProxyMiddleware:
    """Check the signature before Flask sees the request.

    Runs inside ProxyFix (see create_app), so a verified Netlify client address
    has the last word on ``REMOTE_ADDR``. A refusal is only marked here; the
    403 page itself comes from Flask (:func:`refuse_unsigned`), with the usual
    security headers.
    """

    def __init__(self, wsgi_app, secret: str):
        self.wsgi_app = wsgi_app
        self.secret = secret

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "") not in UNSIGNED_PATHS:
            problem = signature_problem(environ.get("HTTP_X_NF_SIGN"), self.secret)
            if problem:
                environ[REFUSED] = problem
            else:
                address = client_address(environ.get("HTTP_X_NF_CLIENT_CONNECTION_IP"))
                if address:
                    environ["REMOTE_ADDR"] = address
                else:
                    log.warning("Signed request without a usable %s; using the peer address", CLIENT_IP_HEADER)
        return self.wsgi_app(environ, start_response)


def refuse_unsigned():
    problem = request.environ.get(REFUSED)
    if problem:
        # Nothing about the request itself: it may carry someone's answers.
        log.info("Refused a request that did not come through Netlify (signature %s)", problem)
        abort(403)


def init_app(app: Flask) -> None:
    """Call before any other extension: refusing must come before CSRF and rate limits."""
    secret = str(app.config.get("NETLIFY_SIGNING_SECRET") or "")
    if not secret:
        return
    if len(secret) < MIN_SECRET_LENGTH:
        raise RuntimeError(
            f"FORMSVC_NETLIFY_SIGNING_SECRET is too short: use at least {MIN_SECRET_LENGTH} characters "
            "(python -c 'import secrets; print(secrets.token_hex(32))'), the same value in Netlify's "
            "environment variable of that name."
        )
    app.wsgi_app = SignedProxyMiddleware(app.wsgi_app, secret)
    app.before_request(refuse_unsigned)
