"""App-wide error pages: a friendly page for every HTTP error, never a bare one.

The form's own troubles (CSRF, rate limit, outbox unavailable) are handled in
enquiry.py, which shows the form again with the person's answers.
"""
from __future__ import annotations

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

ERROR_TITLES = {
    400: _l("Sorry, there is a problem"),
    # Reached without going through our website (formsvc/netlify.py).
    403: _l("Please use the form on our website"),
    404: _l("Page not found"),
    405: _l("Page not found"),
    429: _l("Sorry, there is a problem"),
    500: _l("Sorry, there is a problem with the service"),
    503: _l("Sorry, the service is unavailable"),
}


def too_large(error: RequestEntityTooLarge):
    return (
        render_template(
            "enquiry_too_large.html",
            message_max=int(current_app.config["MESSAGE_MAX_CHARS"]),
        ),
        413,
    )


def http_error(error: HTTPException):
    code = error.code or 500
    response = error.get_response()
    # Keep headers such as Allow (405) and Retry-After (429), lose the default body.
    headers = {k: v for k, v in response.headers.items() if k.lower() not in {"content-type", "content-length"}}
    return (
        render_template("error.html", code=code, title=ERROR_TITLES.get(code, ERROR_TITLES[400])),
        code,
        headers,
    )


def init_app(app) -> None:
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(HTTPException, http_error)
