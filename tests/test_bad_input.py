"""What outside testing found the form doing with inputs nobody here wrote, through the real
service: the production server (server) over HTTP where the transport matters, and the
hub's email from a real SMTP server."""
from __future__ import annotations

import http.client
import re
import urllib.parse

import pytest
from bs4 import BeautifulSoup

from formsvc.forms import MSG_EMAIL_HIDDEN, MSG_PHONE_HIDDEN
from formsvc.outbox import get_outbox
from testsupport.answers import valid_answers
from testsupport.forms import FormBrowser, FormClient
from testsupport.hubmail import delivered_body, hub_text, their_message
from testsupport.net import ServerThread
from testsupport.processes import Gunicorn, service_env

# ---------------------------------------------------------------- an address is never changed

@pytest.mark.parametrize("method, typed, message", [
    ("email", "sian@gm\x00ail.com", MSG_EMAIL_HIDDEN),
    ("email", "sian@example.org\x0bevil.example", MSG_EMAIL_HIDDEN),
    ("phone", "07700 900\t982", MSG_PHONE_HIDDEN),
    ("phone", "07700\x1b 900 982", MSG_PHONE_HIDDEN),
])
def test_a_control_character_in_an_address_or_number_is_refused_with_a_clear_message(
        form_browser, stored, method, typed, message):
    form_browser.send(**valid_answers(contact_method=method, **{method: typed}))
    assert form_browser.response.status_code == 200
    assert form_browser.error_links() == [(f"#{method}", message)]
    assert form_browser.answers()[method] == typed  # kept as typed, to be put right
    assert stored() == []


def test_a_line_break_in_a_name_still_becomes_a_space(form_browser, stored):
    form_browser.send(**valid_answers(name="Siân\r\nJones"))
    assert form_browser.response.status_code == 303
    [enquiry] = stored()
    assert "What should we call you? Siân Jones\n" in hub_text(enquiry.message)


# ---------------------------------------------------------------- characters that reorder text

def test_bidi_controls_are_shown_to_the_hub_and_never_reorder_the_email(form_app, smtp_server):
    browser = FormBrowser(form_app.test_client())
    # U+202E would display "Please do not call me" with its end reversed; U+2066 isolates.
    browser.send(**valid_answers(name="Sam\u202eTom", call_times="\u2066after 6pm\u2069",
                                 message="Please do not \u202ecall me\u202c at home.\r\nThanks."))
    assert browser.response.status_code == 303
    body = delivered_body(form_app, smtp_server)
    assert not re.search("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", body)
    assert "What should we call you? Sam[U+202E]Tom" in body
    assert "When is it safe to call you? [U+2066]after 6pm[U+2069]" in body
    assert their_message(body) == "Please do not [U+202E]call me[U+202C] at home.\nThanks."
    # What was typed is stored as typed; only the email writes the controls out.
    assert get_outbox(form_app).stats()["delivered"] == 1


# ---------------------------------------------------------------- other character sets

def post_raw(browser: FormBrowser, body: bytes, content_type: str):
    return browser._load(browser.client.post("/enquiry/", data=body, content_type=content_type))


def encoded_form(browser: FormBrowser, charset: str, **answers) -> bytes:
    values = {**browser.values(), **valid_answers(**answers)}
    return urllib.parse.urlencode(values, encoding=charset).encode("ascii")


@pytest.mark.parametrize("charset", ["iso-8859-1", "windows-1252", "koi8-r"])
def test_a_form_posted_in_another_character_set_is_decoded(form_browser, stored, charset):
    form_browser.get()
    # Text each character set can carry (no curly apostrophe in Latin-1, no "é" in KOI8-R).
    name, message = {"iso-8859-1": ("Zoë", "Café owner's son."), "windows-1252": ("Zoë", "Café owner’s son."),
                     "koi8-r": ("Зоя", "Сын хозяина кафе.")}[charset]
    body = encoded_form(form_browser, charset, name=name, message=message)
    post_raw(form_browser, body, f"application/x-www-form-urlencoded; charset={charset}")
    assert form_browser.response.status_code == 303, form_browser.error_links() or form_browser.notice()
    [enquiry] = stored()
    text = hub_text(enquiry.message)
    assert f"What should we call you? {name}\n" in text
    assert their_message(text) == message


@pytest.mark.parametrize("content_type", [
    "application/x-www-form-urlencoded",  # says UTF-8 (by saying nothing) but is not
    "application/x-www-form-urlencoded; charset=no-such-charset",
    "application/x-www-form-urlencoded; charset=base64",  # a codec, not a character set
])
def test_a_form_that_cannot_be_decoded_is_refused_clearly_and_nothing_is_stored(
        form_browser, stored, content_type):
    form_browser.get()
    body = encoded_form(form_browser, "iso-8859-1", message="Caf\u00e9 owner")
    post_raw(form_browser, body, content_type)
    assert form_browser.response.status_code == 400
    assert form_browser.title.startswith("Error: ")
    assert "Sorry, we could not read your answers" in form_browser.notice()
    assert "%E9" not in form_browser.response.get_data(as_text=True)
    assert stored() == []
    # The page is a working form again: sending it from there works.
    assert form_browser.submit(**valid_answers()).status_code == 303


# Python codecs that are no character set: "undefined" refuses everything, IDNA and punycode
# turn text into something else ("Abc" is "\x82\x81\x80" in punycode), the escape codecs turn
# a typed "\\n" into a line break. A client can name any of them; each was a 500 or changed text.
NOT_CHARSETS = ["undefined", "idna", "IDNA", "punycode", "unicode_escape", "raw-unicode-escape", "base64", "rot13",
                "no-such-charset", "\"utf\x00-8\"", "x" * 300]


@pytest.mark.parametrize("charset", NOT_CHARSETS)
def test_a_form_in_a_codec_that_is_no_character_set_is_shown_again_with_plain_text_kept(
        form_browser, stored, charset):
    form_browser.get()
    typed = valid_answers(name="Sam", message="Please do not call after 6pm.\r\nThanks, Abc.")
    body = encoded_form(form_browser, "ascii", **typed)
    post_raw(form_browser, body, f"application/x-www-form-urlencoded; charset={charset}")
    assert form_browser.response.status_code == 400
    assert "Sorry, we could not read your answers" in form_browser.notice()
    assert "Check your answers" in form_browser.notice()
    # Plain ASCII reads the same in any character set: shown back to check, never sent as it was.
    kept = form_browser.answers()
    assert (kept["name"], kept["message"]) == ("Sam", "Please do not call after 6pm.\nThanks, Abc.")
    assert stored() == []
    assert form_browser.submit().status_code == 303
    assert len(stored()) == 1


@pytest.mark.parametrize("charset", ["undefined", "punycode", "idna"])
def test_text_that_is_not_plain_ascii_in_such_a_codec_is_not_shown_back(form_browser, stored, charset):
    form_browser.get()
    body = encoded_form(form_browser, "iso-8859-1", message="Caf\u00e9 owner")
    post_raw(form_browser, body, f"application/x-www-form-urlencoded; charset={charset}")
    assert form_browser.response.status_code == 400
    assert "Please fill in the form again" in form_browser.notice()
    assert form_browser.answers()["message"] == "" and "Caf" not in form_browser.response.get_data(as_text=True)
    assert stored() == []


# ---------------------------------------------------------------- too large, with or without a length

class Served:
    def __init__(self, port: int):
        self.port = port


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gunicorn")
    env = service_env(tmp / "data", MIN_FILL_SECONDS="0", SITE_DIR=str(tmp / "no-site"))
    server = Gunicorn(env, tmp / "web.log", workers=1).start()
    yield Served(server.port)
    server.stop()


@pytest.fixture(scope="module")
def local_server(tmp_path_factory):
    """Werkzeug's server, as `make run` uses."""
    from formsvc import create_app

    tmp = tmp_path_factory.mktemp("werkzeug")
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp / "data"), "SITE_DIR": str(tmp / "no-site"),
                      "MIN_FILL_SECONDS": 0})
    with ServerThread(app) as server:
        yield Served(server.server.server_port)


@pytest.fixture(params=[pytest.param("gunicorn", marks=pytest.mark.process), "werkzeug"])
def server(request):
    return request.getfixturevalue("production_server" if request.param == "gunicorn" else "local_server")


def post_chunked(port: int, client: FormClient, body: bytes) -> tuple[int, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        # No Content-Length: Transfer-Encoding: chunked, in pieces as a streaming client sends it.
        pieces = (body[i:i + 8192] for i in range(0, len(body), 8192))
        conn.request("POST", "/enquiry/", body=pieces, headers=headers, encode_chunked=True)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@pytest.mark.parametrize("chunked", [False, True])
def test_any_body_over_the_limit_gets_the_too_large_page(server, chunked):
    client = FormClient(server.port)
    hidden = client.get_form()
    limit = 64 * 1024  # MAX_CONTENT_LENGTH's default
    answers = valid_answers(message="word " * (limit // 4))
    body = urllib.parse.urlencode({**hidden, **answers, "website": ""}).encode()
    assert len(body) > limit
    if chunked:
        status, html = post_chunked(server.port, client, body)
    else:
        status, _, raw = client.post_form(hidden, answers)
        html = raw.decode()
    client.close()
    assert status == 413
    page = BeautifulSoup(html, "html.parser")
    assert page.find("h1").get_text(strip=True) == "Your message is too long"
    assert "word word" not in html  # nothing kept half


def test_a_chunked_body_within_the_limit_is_read_whole(server):
    client = FormClient(server.port)
    hidden = client.get_form()
    message = "The end of my message must arrive. " * 100 + "THE END"
    body = urllib.parse.urlencode({**hidden, **valid_answers(message=message), "website": ""}).encode()
    status, _ = post_chunked(server.port, client, body)
    client.close()
    assert status == 303


# ---------------------------------------------------------------- no URL built from the Host header

@pytest.mark.parametrize("path, to", [("/enquiry", "/enquiry/"), ("/enquiry/static//enquiry.css",
                                                                   "/enquiry/static/enquiry.css")])
def test_a_redirect_over_http_names_no_host(server, path, to):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": "evil.example"})
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    assert (response.status, response.getheader("Location")) == (308, to)
    assert response.getheader("Cache-Control") == "no-store"
