"""Only Netlify reaches the form: the signed proxy's X-Nf-Sign JWT (formsvc/netlify.py).

Tokens are made here the way Netlify makes them (HS256, iss "netlify", a short
expiry, the deploy's claims), with PyJWT, and checked by the real app.
"""
from __future__ import annotations

import time

import jwt
import pytest
from bs4 import BeautifulSoup

from formsvc.outbox import get_outbox
from testsupport.answers import valid_answers
from testsupport.forms import FormBrowser

SECRET = "s3cret-" + "x" * 60  # long enough for HS512 too (the "other algorithm" case)


def netlify_token(secret: str = SECRET, *, algorithm: str = "HS256", **changes) -> str:
    claims = {
        "deploy_context": "production",
        "netlify_id": "0c0ffee0-site",
        "site_url": "https://rj.example.org",
        "iss": "netlify",
        "exp": int(time.time()) + 300,
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, secret, algorithm=algorithm)


def signed_client(app, token: str | None = None, client_ip: str | None = "198.51.100.7"):
    client = app.test_client()
    client.environ_base["HTTP_X_NF_SIGN"] = token if token is not None else netlify_token()
    if client_ip:
        client.environ_base["HTTP_X_NF_CLIENT_CONNECTION_IP"] = client_ip
    return client


@pytest.fixture
def protected_app(make_form_app):
    return make_form_app(NETLIFY_SIGNING_SECRET=SECRET, RATELIMIT_POST="1 per minute")


def assert_refused(response):
    assert response.status_code == 403
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.find("h1").get_text(strip=True) == "Please use the form on our website"
    assert "Exit this page" in page.get_text()
    assert "Set-Cookie" not in response.headers
    # The friendly page carries the same strict headers as every other response.
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_without_a_secret_nothing_is_checked_and_netlify_headers_mean_nothing(make_form_app):
    app = make_form_app(RATELIMIT_POST="1 per minute")
    client = app.test_client()
    client.environ_base["HTTP_X_NF_SIGN"] = "not even a token"
    browser = FormBrowser(client)
    assert browser.send(**valid_answers()).status_code == 303
    # A different "client address" in Netlify's header does not buy a fresh limit.
    client.environ_base["HTTP_X_NF_CLIENT_CONNECTION_IP"] = "203.0.113.99"
    assert browser.send(**valid_answers()).status_code == 429


def test_a_signed_request_gets_the_form_and_sends(protected_app):
    browser = FormBrowser(signed_client(protected_app))
    assert browser.get().status_code == 200
    assert browser.submit(**valid_answers()).status_code == 303
    assert browser.follow().status_code == 200
    assert browser.reference().startswith("RJ-")


# Named ids: a token made from the clock would give each pytest-xdist worker a different test.
@pytest.mark.parametrize("label, token", [
    pytest.param("missing", "", id="missing"),
    pytest.param("garbage", "not-a-jwt", id="garbage"),
    pytest.param("wrong secret", netlify_token("another-secret-" + "y" * 60), id="wrong secret"),
    pytest.param("expired", netlify_token(exp=int(time.time()) - 120), id="expired"),
    pytest.param("no expiry", netlify_token(exp=None), id="no expiry"),
    pytest.param("wrong issuer", netlify_token(iss="someone-else"), id="wrong issuer"),
    pytest.param("no issuer", netlify_token(iss=None), id="no issuer"),
    pytest.param("another algorithm", netlify_token(algorithm="HS512"), id="another algorithm"),
    pytest.param("unsigned", jwt.encode({"iss": "netlify", "exp": int(time.time()) + 300}, None, algorithm="none"), id="unsigned"),
])
def test_requests_that_bypass_netlify_are_refused_with_a_friendly_page(protected_app, label, token):
    client = signed_client(protected_app, token=token)
    for response in (client.get("/enquiry/"), client.get("/enquiry/sent"),
                     client.get("/enquiry/static/enquiry.css"), client.get("/enquiry/nothing")):
        assert_refused(response)


def test_an_unsigned_post_is_refused_before_csrf_and_rate_limits_and_stores_nothing(protected_app, stored):
    browser = FormBrowser(signed_client(protected_app))
    browser.get()
    data = {**browser.values(), **valid_answers()}
    attacker = signed_client(protected_app, token="")  # same client address, no signature
    for _ in range(3):
        assert_refused(attacker.post("/enquiry/", data=data))
    assert stored(protected_app) == []
    # The refused posts were not counted against the client's address.
    assert browser.submit(**valid_answers()).status_code == 303


def test_the_client_address_comes_from_netlify_only_after_the_signature_checks(protected_app):
    first = FormBrowser(signed_client(protected_app, client_ip="198.51.100.7"))
    assert first.send(**valid_answers()).status_code == 303
    assert first.send(**valid_answers()).status_code == 429  # 1 per minute for this person
    # Someone else behind Netlify (same socket peer) has their own allowance.
    other = FormBrowser(signed_client(protected_app, client_ip="2001:db8::42"))
    assert other.send(**valid_answers()).status_code == 303
    # An unsigned request naming someone else's address is refused, not rate limited.
    forged = signed_client(protected_app, token="", client_ip="203.0.113.5")
    assert_refused(forged.post("/enquiry/", data=valid_answers()))


def test_a_garbled_client_address_falls_back_to_the_peer(protected_app, caplog):
    browser = FormBrowser(signed_client(protected_app, client_ip="203.0.113.5, 10.0.0.1"))
    assert browser.send(**valid_answers()).status_code == 303
    assert "without a usable X-Nf-Client-Connection-Ip" in caplog.text


def test_netlify_address_wins_over_forwarded_for_behind_another_proxy(make_form_app):
    app = make_form_app(NETLIFY_SIGNING_SECRET=SECRET, RATELIMIT_POST="1 per minute", PROXY_HOPS=1)
    a = signed_client(app, client_ip="198.51.100.7")
    a.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.1"
    b = signed_client(app, client_ip="198.51.100.8")
    b.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.1"  # same forwarded address, other person
    assert FormBrowser(a).send(**valid_answers()).status_code == 303
    assert FormBrowser(b).send(**valid_answers()).status_code == 303


def test_healthz_needs_no_signature(protected_app):
    response = protected_app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


def test_a_short_secret_is_refused_at_start(make_form_app):
    with pytest.raises(RuntimeError, match="FORMSVC_NETLIFY_SIGNING_SECRET is too short"):
        make_form_app(NETLIFY_SIGNING_SECRET="short")


def test_refusals_are_logged_without_anything_the_person_sent(protected_app, caplog):
    caplog.set_level("INFO")
    client = signed_client(protected_app, token="")
    client.post("/enquiry/", data=valid_answers(message="Unmistakable private words"))
    assert "did not come through Netlify (signature missing)" in caplog.text
    assert "Unmistakable" not in caplog.text
    assert get_outbox(protected_app).stats()["backlog"] == 0
