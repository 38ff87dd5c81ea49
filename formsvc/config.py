"""Settings for the enquiry service.

Every setting can be given as an environment variable with the ``FORMSVC_`` prefix
(``FORMSVC_SMTP_HOST=mail.example`` sets ``SMTP_HOST``). Defaults are safe for a
developer's machine: mail goes to a local Maildir, rate limits live in memory.
Production (the default ``ENV``) refuses to start without a real secret key.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

from contract.site_settings import SITE_SETTINGS

DEV_SECRET_KEY = "development-only-not-secret"
DAY = 24 * 3600


class Setting(NamedTuple):
    default: Any
    meaning: str  # one line; docs/deploying.md's settings table is made from these
    shown: str | None = None  # how docs/deploying.md shows the default, when not as the value itself


#: Every setting the service reads: name (without the FORMSVC_ prefix) -> default and meaning.
#: No other module keeps a default of its own; ``python -m formsvc.config`` prints the
#: docs/deploying.md's table, and tests/test_config.py checks that it has it.
DEFAULTS: dict[str, Setting] = {
    # -- the service
    # "production" unless told otherwise, so a forgotten setting fails safe.
    "ENV": Setting("production", "`development` relaxes the checks below (used by `make run` and tests)"),
    "SECRET_KEY": Setting(None, "Required in production: the service refuses to start without it", "none"),
    "DATA_DIR": Setting("var", "Outbox database (`outbox.sqlite3`, when DATABASE_URL is empty) and the local Maildir"),
    # Empty keeps the one-command default; PostgreSQL when several machines share the queue.
    "DATABASE_URL": Setting("", "Empty: the outbox is a SQLite file in DATA_DIR (one machine). "
                                "`postgresql://user:password@host:5432/db?sslmode=verify-full`: the outbox in "
                                "PostgreSQL, shared by every web instance and worker; options as libpq reads them"),
    "SITE_DIR": Setting("site", "The built site, whose shell frames the form"),
    "TRANSLATIONS_DIR": Setting("", "The form's words in other languages: gettext catalogues, "
                                    "`<code>/LC_MESSAGES/messages.mo` (compiled by `make setup`), each at "
                                    "`/<code>/enquiry/`; empty: `formsvc/translations`", "empty"),
    # A fallback for a service without a built site: the site's table's default, so the two
    # cannot differ. A built site's own value (site-manifest.json) always wins.
    "EXIT_URL": Setting(SITE_SETTINGS["exit_url"].default,
                        "Where the exit button goes without a built site; the site's own value "
                        "(`extra.exit_url`, via site-manifest.json) wins"),
    "SHELL_SCRIPT_HASHES": Setting((), "Hashes of the site shell's inline scripts for the CSP; read from the "
                                       "built site's site-manifest.json, not set by hand", "from the site"),
    "SHELL_STYLE_HASHES": Setting((), "Hashes of the styles the shell's scripts add, for the CSP; from "
                                      "site-manifest.json", "from the site"),
    "SITE_EXTRA": Setting({}, "What the form's pages say in the site's words (`emergency`, `victim_support`, "
                              "`domestic_abuse_lines`, `who_reads`, `reply_within`, ...); from site-manifest.json",
                          "from the site"),
    # -- mail
    "HUB_INBOX": Setting("hub@localhost", "Where enquiries are sent"),
    "MAIL_FROM": Setting("enquiries@localhost", "Our own sender address"),
    "SMTP_HOST": Setting("", "Empty means: deliver to `DATA_DIR/maildir`"),
    "SMTP_PORT": Setting(0, "0 means the usual port for SMTP_SECURITY", "587 / 465 / 25"),
    "SMTP_SECURITY": Setting("starttls", "`starttls`, `ssl` or `none`; TLS certificates are verified"),
    "SMTP_USERNAME": Setting("", "Log in only when a username is set"),
    "SMTP_PASSWORD": Setting("", "The SMTP password"),
    "SMTP_TIMEOUT": Setting(10, "Seconds to wait for the SMTP server at each step before trying later"),
    # -- the delivery worker (flask deliver)
    "DELIVER_INTERVAL_SECONDS": Setting(10, "Seconds between the worker's looks at the outbox when it is empty"),
    "DELIVER_BACKOFF_FIRST_SECONDS": Setting(60, "Wait before the first retry after a failure; later waits double, "
                                                 "up to an hour"),
    "DELIVER_NICENESS": Setting(10, "`flask deliver` lowers its CPU priority by this much, so deliveries never "
                                    "slow the form"),
    "OUTBOX_LEASE_SECONDS": Setting(300, "How long a worker holds enquiries it took before another may send them"),
    "QUARANTINE_RETENTION_SECONDS": Setting(30 * DAY, "Quarantined (suspected spam) messages are deleted after "
                                                      "this long", "30 days"),
    # -- the form
    "MIN_FILL_SECONDS": Setting(3, "A post sooner than this after the form was served gets a second look; "
                                   "`0` disables"),
    "MESSAGE_MAX_CHARS": Setting(5000, "The longest message we accept, in characters (the page says so)"),
    "MAX_CONTENT_LENGTH": Setting(64 * 1024, "The largest request body in bytes; larger gets the friendly "
                                             "\"too large\" page"),
    # Flask-Limiter's limits: ";" separates limits.
    "RATELIMIT_POST": Setting("5 per minute;30 per hour", "Accepted enquiries per client address"),
    "RATELIMIT_INVALID_POST": Setting("60 per minute;300 per hour",
                                      "Posts with a problem per client address (generous: people correct "
                                      "their answers)"),
    "RATELIMIT_STORAGE_URI": Setting("memory://", "Use `redis://host:6379` with more than one process"),
    "RATELIMIT_ENABLED": Setting(True, "Rate limits on the form's posts"),
    "FORM_TOKEN_MAX_AGE": Setting(1 * DAY, "A form served longer ago than this (seconds) is shown again to "
                                           "check before sending"),
    "SENT_PAGE_MAX_AGE": Setting(3600, "How long (seconds) the confirmation page still shows the reference"),
    # Flask-WTF's own default is an hour; someone may take longer to write about what
    # happened to them. An expired token only shows the form again with the answers kept.
    "WTF_CSRF_TIME_LIMIT": Setting(1 * DAY, "Lifetime (seconds) of the form's CSRF token"),
    # Set here because Flask's own default ("session") would otherwise win.
    "SESSION_COOKIE_NAME": Setting("formsvc_session", "The form's only cookie (the CSRF secret and the last "
                                                      "reference sent)"),
    # -- in front of the service
    "PROXY_HOPS": Setting(0, "Number of trusted proxies in front, nginx included (nginx alone: `1`; Netlify, then "
                             "nginx: `2`); the client address comes only from them"),
    "NETLIFY_SIGNING_SECRET": Setting("", "Set to accept only requests Netlify signed (see below); empty: no "
                                          "check (local run)", "empty"),
    # -- sealing enquiries to the hub's key (formsvc/seal.py, docs/hub-keys.md)
    "HUB_ENCRYPTION": Setting("", "`smime`, `openpgp` or `none`; production refuses to start while it is empty "
                                  "(development and tests: `none`)", "empty"),
    "HUB_SMIME_CERTIFICATES": Setting("", "PEM file with the hub's X.509 certificate(s), public part only "
                                          "(`HUB_ENCRYPTION=smime`)", "empty"),
    "HUB_OPENPGP_KEYS": Setting("", "ASCII-armoured file with the hub's OpenPGP public key(s) "
                                    "(`HUB_ENCRYPTION=openpgp`)", "empty"),
    # -- signing them with the service's own key, inside the seal (issue 20; empty: not signed, warned)
    "SIGNING_SMIME_CERTIFICATE": Setting("", "PEM file with the service's own S/MIME signing certificate for "
                                             "MAIL_FROM (then any intermediates): every enquiry is signed "
                                             "(`HUB_ENCRYPTION=smime`)", "empty"),
    "SIGNING_SMIME_KEY": Setting("", "PEM file with that certificate's private key, no password, readable by the "
                                     "service alone", "empty"),
    "SIGNING_OPENPGP_KEY": Setting("", "ASCII-armoured file with the service's own OpenPGP secret key, no password: "
                                       "every enquiry is signed (`HUB_ENCRYPTION=openpgp`)", "empty"),
}


def is_development(cfg) -> bool:
    """A developer's machine or the tests (the relaxed defaults apply), not production."""
    return cfg.get("ENV") in {"development", "testing"} or bool(cfg.get("TESTING"))


def default(name: str):
    """The default of one setting, for code that runs without an app (tests, benchmarks)."""
    return DEFAULTS[name].default


def _shown(name: str, setting: Setting) -> str:
    if setting.shown is not None:
        return setting.shown
    value = setting.default
    if value is None or value == "":
        return "empty" if value == "" else "none"
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"`{value}`"


def _env_value(value) -> str:
    """A value as it is written in a FORMSVC_ variable ("false", not "False")."""
    return json.dumps(value) if isinstance(value, bool) else str(value)


def settings_table() -> str:
    """docs/deploying.md's table of settings, in Markdown."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    rows += [f"| `FORMSVC_{name}` | {_shown(name, s)} | {s.meaning} |" for name, s in DEFAULTS.items()]
    return "\n".join(rows) + "\n"


def load(app, overrides: dict | None = None) -> None:
    """Fill ``app.config`` from defaults, then the environment, then ``overrides``."""
    app.config.from_mapping({name: setting.default for name, setting in DEFAULTS.items()})
    app.config.from_prefixed_env("FORMSVC")
    if overrides:
        app.config.from_mapping(overrides)
    cfg = app.config

    development = is_development(cfg)
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

    # Flask's and Flask-Limiter's settings that the service sets itself: not for anyone to
    # choose, so a value given for one is overridden, and a warning says so (an operator who
    # set FORMSVC_SESSION_COOKIE_SECURE=false would otherwise believe it had worked).
    fixed = {
        # The session cookie only carries the CSRF secret; keep it as tight as we can.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not development,
        "SESSION_COOKIE_PATH": "/enquiry/",
        "PREFERRED_URL_SCHEME": "http" if development else "https",
        # No X-RateLimit-* counts on every answer: no browser uses them, they tell a bot how close it is
        # to the limit, and each costs the store a round trip or two per post (issue 20's profile). A
        # refused post still says when to try again: Retry-After, from enquiry.rate_limited.
        "RATELIMIT_HEADERS_ENABLED": False,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
    }
    given = {name.removeprefix("FORMSVC_") for name in os.environ if name.startswith("FORMSVC_")}
    given |= set(overrides or ())
    follows_env = {"SESSION_COOKIE_SECURE", "PREFERRED_URL_SCHEME"}
    app.extensions["settings_warnings"] = [
        f"FORMSVC_{name}={_env_value(cfg[name])} is ignored: the service sets {name}={_env_value(value)} itself"
        + ("" if name not in follows_env else " in development" if development else " outside development")
        for name, value in fixed.items() if name in given and cfg[name] != value
    ]
    cfg.update(fixed)
    if str(cfg["RATELIMIT_STORAGE_URI"]).startswith(("redis", "rediss")):
        # redis-py waits for ever by default: a Redis that is up but not answering would
        # hold every post (and then gunicorn kills the worker). Give up quickly instead;
        # the in-memory fallback takes over (tests/test_faults.py).
        options = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
        options.update(cfg.get("RATELIMIT_STORAGE_OPTIONS") or {})
        cfg["RATELIMIT_STORAGE_OPTIONS"] = options


if __name__ == "__main__":
    print(settings_table(), end="")
