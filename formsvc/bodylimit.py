"""Every request body read whole and within MAX_CONTENT_LENGTH before the app sees it.

Flask refuses a body whose Content-Length is over the limit with a 413 (our friendly
"too large" page). A body sent without a Content-Length (chunked) was instead read
only up to the limit and parsed as if that were all, so a long message came back cut
short without a word. Here such a body is read up to one byte past the limit: more
than that and the app is told its length is over the limit, so it gets the same 413;
otherwise it gets the body with its real length.

The bytes are also kept in ``environ["formsvc.body"]``, for reading the form in the
character set it was sent in (forms.posted_formdata), which Werkzeug cannot do.
"""
from __future__ import annotations

import io

BODY_KEY = "formsvc.body"


class BodyLimit:
    def __init__(self, app, limit: int):
        self.app, self.limit = app, int(limit)

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") in {"POST", "PUT", "PATCH"}:
            self._read_whole(environ)
        return self.app(environ, start_response)

    def _read_whole(self, environ) -> None:
        stream = environ["wsgi.input"]
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared.strip():
            try:
                length = int(declared)
            except ValueError:
                return  # Werkzeug answers a malformed length itself
            if length > self.limit:
                return  # Flask answers 413 without reading it
            body = stream.read(length) if length > 0 else b""
        elif environ.get("wsgi.input_terminated"):
            body = stream.read(self.limit + 1)
        else:
            return  # no length and no end marker: Werkzeug treats the body as empty
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input_terminated"] = False
        if len(body) <= self.limit:
            environ[BODY_KEY] = body


def init_app(app) -> None:
    app.wsgi_app = BodyLimit(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])
