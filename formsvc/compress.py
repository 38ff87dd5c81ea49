"""Gzip the service's text responses, as Netlify does for the site's own files.

Readers on slow phone connections get the form in a third of the bytes (the page
and its stylesheet: about 34 KB become 9 KB), which Lighthouse counts towards the
form page's first paint.

Compressing a page that holds a secret and reflects what was posted can, in
principle, leak the secret to someone who watches many response sizes (BREACH).
Here that needs the reader's browser to post chosen text with the reader's form
cookie, which SameSite=Lax stops for posts from other sites, and Flask-WTF's token
is signed with the time, so it changes every second.
"""
from __future__ import annotations

import gzip

from flask import request

COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
MIN_BYTES = 1024


def init_app(app) -> None:
    @app.after_request
    def compress(response):
        if not response.mimetype.startswith(COMPRESSIBLE) or response.status_code in (204, 206, 304):
            return response
        response.vary.add("Accept-Encoding")
        if "Content-Encoding" in response.headers or not request.accept_encodings["gzip"]:
            return response
        response.direct_passthrough = False  # static files: read them to compress them
        body = response.get_data()
        if len(body) < MIN_BYTES:
            return response
        response.set_data(gzip.compress(body, compresslevel=6))
        response.content_encoding = "gzip"
        etag, weak = response.get_etag()
        if etag:
            response.set_etag(etag + "-gzip", weak=weak)
        return response
