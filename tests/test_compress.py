"""The form service gzips its text responses (formsvc/compress.py), as Netlify does the site's."""
from __future__ import annotations

import gzip
from pathlib import Path

from testsupport.answers import valid_answers
from testsupport.forms import FormBrowser

STATIC = Path(__file__).resolve().parent.parent / "formsvc" / "static"


def test_pages_and_static_files_are_gzipped_for_browsers_that_accept_it(form_app):
    client = form_app.test_client()
    page = client.get("/enquiry/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert page.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in page.headers["Vary"]
    html = gzip.decompress(page.data).decode()
    assert "<form" in html and len(page.data) < len(html.encode()) / 2

    # (Static files are streamed from disk: close the responses, as a server does.)
    with client.get("/enquiry/static/enquiry.css", headers={"Accept-Encoding": "gzip"}) as css:
        assert gzip.decompress(css.data) == (STATIC / "enquiry.css").read_bytes()
    with client.get("/enquiry/static/enquiry.css") as plain:
        assert "Content-Encoding" not in plain.headers and plain.data == (STATIC / "enquiry.css").read_bytes()
    # The two are different files to a cache.
    assert css.headers["ETag"] != plain.headers["ETag"]
    assert "Accept-Encoding" in plain.headers["Vary"]


def test_without_gzip_and_for_tiny_or_empty_responses_nothing_changes(form_app):
    client = form_app.test_client()
    page = client.get("/enquiry/")
    assert "Content-Encoding" not in page.headers and b"<form" in page.data
    redirect = client.get("/enquiry/sent", headers={"Accept-Encoding": "gzip"})
    assert redirect.status_code == 303 and "Content-Encoding" not in redirect.headers


def test_a_page_shown_again_with_answers_is_gzipped_and_keeps_them(form_app):
    browser = FormBrowser(form_app.test_client())
    browser.get()
    answers = valid_answers(message="")
    data = {**browser.values(), **answers}
    response = browser.client.post("/enquiry/", data=data, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert "Enter what you would like to talk about" in gzip.decompress(response.data).decode()
