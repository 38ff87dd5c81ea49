"""Settings for the enquiry service.

Every setting can be given as an environment variable with the ``FORMSVC_`` prefix
(``FORMSVC_SMTP_HOST=mail.example`` sets ``SMTP_HOST``). Defaults are safe for a
developer's machine: mail goes to a local Maildir, rate limits live in memory.
Production (the default ``ENV``) refuses to start without a real secret key.
"""
from __future__ import annotations

import os
from pathlib import Path

DEV_SECRET_KEY = "development-only-not-secret"

DEFAULTS = {
    # "production" unless told otherwise, so a forgotten setting fails safe.
    "ENV": "production",
    "SECRET_KEY": None,
    # Where the outbox database and the local Maildir live.
    "DATA_DIR": "var",
    # Where the built site is (the form page borrows its look from it).
    "SITE_DIR": "site",
    "HUB_INBOX": "hub@localhost",
    "MAIL_FROM": "enquiries@localhost",
    # No SMTP host means: deliver into DATA_DIR/maildir.
    "SMTP_HOST": "",
    "SMTP_PORT": 0,
    "SMTP_SECURITY": "starttls",  # starttls | ssl | none
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_TIMEOUT": 10,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ENABLED": True,
    # Posts sooner than this after the form was served get a second look.
    "MIN_FILL_SECONDS": 3,
    # How many proxies in front of us append to X-Forwarded-For (Netlify = 1).
    "PROXY_HOPS": 0,
    # The secret Netlify signs proxied requests with (X-Nf-Sign, see netlify.py).
    # Set: requests without a valid signature get a 403, and the client address
    # comes from Netlify's X-Nf-Client-Connection-Ip. Empty: no check (local run).
    "NETLIFY_SIGNING_SECRET": "",
    # The longest message we accept, in characters (the page states it).
    "MESSAGE_MAX_CHARS": 5000,
    # The whole request body; larger gets a friendly 413.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # --- The enquiry form (formsvc/enquiry.py) ---
    # Flask-Limiter limits on POST /enquiry/ per client address (";" separates limits).
    "RATELIMIT_POST": "5 per minute;30 per hour",
    # A form served longer ago than this (seconds) is shown again to check before sending.
    "FORM_TOKEN_MAX_AGE": 24 * 3600,
    # How long (seconds) the confirmation page still shows the reference after sending.
    "SENT_PAGE_MAX_AGE": 3600,
    # Flask-WTF's CSRF token lifetime (its default is 1 hour). Someone may take longer
    # than an hour to write about what happened to them; the token is still tied to the
    # session cookie (SameSite=Lax, path /enquiry/), and an expired one only re-shows
    # the form with the answers kept.
    "WTF_CSRF_TIME_LIMIT": 24 * 3600,
    # The form's session cookie (holds only the CSRF secret and the last reference sent).
    # Set here because Flask's own default ("session") makes a setdefault a no-op.
    "SESSION_COOKIE_NAME": "formsvc_session",
    # The neutral site the exit button goes to (the site's mkdocs.yml extra.exit_url,
    # read from the built site's site-manifest.json when there is one; this is the fallback).
    "EXIT_URL": "https://www.bbc.co.uk/weather",
}


def load(app, overrides: dict | None = None) -> None:
    """Fill ``app.config`` from defaults, then the environment, then ``overrides``."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("FORMSVC")
    if overrides:
        app.config.from_mapping(overrides)
    cfg = app.config

    development = cfg["ENV"] == "development" or cfg.get("TESTING")
    if not cfg.get("SECRET_KEY"):
        if not development:
            raise RuntimeError(
                "FORMSVC_SECRET_KEY is not set. Set it to a long random value "
                "(python -c 'import secrets; print(secrets.token_hex(32))') before starting in production."
            )
        cfg["SECRET_KEY"] = DEV_SECRET_KEY

    cfg["DATA_DIR"] = str(Path(cfg["DATA_DIR"]).resolve())
    cfg["SITE_DIR"] = str(Path(cfg["SITE_DIR"]).resolve())
    os.makedirs(cfg["DATA_DIR"], exist_ok=True)

    security = str(cfg["SMTP_SECURITY"]).lower()
    if security not in {"starttls", "ssl", "none"}:
        raise RuntimeError("FORMSVC_SMTP_SECURITY must be starttls, ssl or none.")
    cfg["SMTP_SECURITY"] = security
    if not cfg["SMTP_PORT"]:
        cfg["SMTP_PORT"] = {"starttls": 587, "ssl": 465, "none": 25}[security]

    # The session cookie only carries the CSRF secret; keep it as tight as we can.
    cfg.setdefault("SESSION_COOKIE_NAME", "formsvc_session")
    cfg["SESSION_COOKIE_HTTPONLY"] = True
    cfg["SESSION_COOKIE_SAMESITE"] = "Lax"
    cfg["SESSION_COOKIE_SECURE"] = not development
    cfg["SESSION_COOKIE_PATH"] = "/enquiry/"
    cfg["PREFERRED_URL_SCHEME"] = "http" if development else "https"
    # Flask-Limiter reads these names.
    cfg["RATELIMIT_HEADERS_ENABLED"] = True
    cfg["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    cfg["RATELIMIT_SWALLOW_ERRORS"] = True
    if str(cfg["RATELIMIT_STORAGE_URI"]).startswith(("redis", "rediss")):
        # redis-py waits for ever by default: a Redis that is up but not answering would
        # hold every post (and then gunicorn kills the worker). Give up quickly instead;
        # the in-memory fallback takes over (tests/test_faults.py).
        options = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
        options.update(cfg.get("RATELIMIT_STORAGE_OPTIONS") or {})
        cfg["RATELIMIT_STORAGE_OPTIONS"] = options
