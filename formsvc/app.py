"""The app factory: settings, extensions, blueprints, error pages and commands, in that order."""
from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import bodylimit, config, i18n, netlify, seal, security, shell

log = logging.getLogger("formsvc")


def create_app(overrides: dict | None = None) -> Flask:
    # No app-wide /static/ route: the form's files are the blueprint's, at /enquiry/static/
    # (only /enquiry/* is proxied here).
    app = Flask(__name__, static_folder=None)
    config.load(app, overrides)
    for warning in app.extensions["settings_warnings"]:  # a setting given but overridden
        log.warning("%s", warning)
    # Before anything else: a missing or unusable hub key stops the start with a message
    # naming the file (seal.SealingConfigError), rather than a service that cannot seal.
    sealer = app.extensions["sealer"] = seal.load_sealer(app.config)
    sealer.log_start(log)
    shell.init_app(app)
    # The form's words in each language, the language from the address (/cy/enquiry/): the
    # innermost middleware, so everything around it sees the address as it came.
    i18n.init_app(app)
    # Innermost of the rest: the body is read (within the limit) only for requests that got past the
    # Netlify check wrapped around it below.
    bodylimit.init_app(app)
    # Inside ProxyFix and the Netlify check, so a forwarded Host is judged too.
    app.wsgi_app = security.HostGuard(app.wsgi_app)
    # First: requests that bypass Netlify are refused before CSRF or rate limits
    # look at them; its middleware runs inside ProxyFix (wrapped below).
    netlify.init_app(app)

    if app.config["PROXY_HOPS"]:
        # Trust exactly the configured number of proxies, no more.
        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from . import accept, compress, outbox, security
    from .extensions import csrf, limiter

    csrf.init_app(app)
    limiter.init_app(app)
    # A version 1 outbox's waiting answers become messages the way a new one would.
    outbox.init_app(app, upgrade=accept.upgrader(mail_from=app.config["MAIL_FROM"], hub_inbox=app.config["HUB_INBOX"],
                                                 seal=app.extensions["sealer"].seal))
    security.init_app(app)
    compress.init_app(app)


def register_blueprints(app: Flask) -> None:
    from . import enquiry, health

    app.register_blueprint(enquiry.bp)
    app.register_blueprint(health.bp)


def register_errorhandlers(app: Flask) -> None:
    from . import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    from . import cli

    cli.init_app(app)
