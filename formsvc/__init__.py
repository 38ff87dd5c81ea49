"""The enquiry service: takes a victim's enquiry and gets it to the hub's inbox.

Flask is imported inside the functions, so `from formsvc import csp` works where only the
site is built (Netlify has no Flask); `formsvc.create_app` is still here for gunicorn
and `flask --app formsvc`.
"""
from __future__ import annotations

import typing

if typing.TYPE_CHECKING:
    from flask import Flask


def create_app(overrides: dict | None = None) -> Flask:
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from . import config, netlify, shell

    # No app-wide /static/ route: the form's files are the blueprint's, at /enquiry/static/
    # (only /enquiry/* is proxied here).
    app = Flask(__name__, static_folder=None)
    config.load(app, overrides)
    shell.init_app(app)
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
    from . import compress, outbox, security
    from .extensions import csrf, limiter

    csrf.init_app(app)
    limiter.init_app(app)
    outbox.init_app(app)
    security.init_app(app)
    compress.init_app(app)


def register_blueprints(app: Flask) -> None:
    from . import enquiry, health

    app.register_blueprint(enquiry.bp)
    app.register_blueprint(health.bp)


def register_errorhandlers(app: Flask) -> None:
    """Friendly pages for every HTTP error (the form's own troubles are handled in enquiry.py)."""
    from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

    from . import enquiry

    app.register_error_handler(RequestEntityTooLarge, enquiry.too_large)
    app.register_error_handler(HTTPException, enquiry.http_error)


def register_commands(app: Flask) -> None:
    from . import worker

    worker.init_app(app)
