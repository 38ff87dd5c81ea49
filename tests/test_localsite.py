"""The README's run command: site, form and worker on one origin, mail into a local Maildir."""
from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from werkzeug.test import Client

from localrun.localsite import StaticSite, header_rules, headers_for
from testsupport.hubmail import their_message
from testsupport.net import free_port

ROOT = Path(__file__).resolve().parent.parent


def test_header_rules_apply_by_path(built_site):
    rules = header_rules(built_site, ROOT / "netlify.toml")
    page = headers_for("/how-it-works/", rules)
    assert page["Referrer-Policy"] == "same-origin"
    assert "Content-Security-Policy" in page


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the local run stopped: {process.stdout.read()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("the local run did not start")


@pytest.fixture
def local_run(built_site, tmp_path):
    port = free_port()
    data = tmp_path / "data"
    env = {
        **os.environ,
        "FORMSVC_DATA_DIR": str(data),
        # A browser driven by a test fills the form faster than any person could.
        "FORMSVC_MIN_FILL_SECONDS": "0",
        "FORMSVC_DELIVER_INTERVAL_SECONDS": "1",
    }
    env.pop("FORMSVC_SMTP_HOST", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "localrun", "--port", str(port), "--site-dir", str(built_site)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}", data / "maildir"
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
        assert str(data / "maildir") in output  # it said where the mail lands
        assert "RuntimeWarning" not in output


@pytest.mark.browser
def test_a_reader_finds_the_form_sends_an_enquiry_and_it_lands_in_the_maildir(page: Page, local_run, neutral_site):
    url, maildir = local_run
    page.goto(url + "/")
    page.get_by_role("navigation", name="Navigation").get_by_role("link", name="Email us").first.click()
    page.locator("article a[href='/enquiry/']").first.click()
    page.wait_for_url(url + "/enquiry/")

    page.get_by_label("What should we call you?").fill("Siân")
    page.get_by_label("Email", exact=True).check()
    page.get_by_label("Email address").fill("sian@example.org")
    page.get_by_label("What would you like to talk about?").fill("I would like to know more.\nThank you.")
    page.get_by_role("button", name="Send message").click()
    page.wait_for_url(url + "/enquiry/sent")
    reference = page.locator(".fs-panel__reference").inner_text().strip()
    assert reference.startswith("RJ-")

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not list((maildir / "new").glob("*")):
        time.sleep(0.2)
    [mail_file] = list((maildir / "new").glob("*"))
    mail = email.message_from_bytes(mail_file.read_bytes(), policy=email.policy.default)
    assert reference in mail["Subject"]
    assert "Siân" not in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert their_message(body) == "I would like to know more.\nThank you."
    assert "Siân" in body
    # Reply comes back to the hub; the link in the body writes to the person.
    assert mail["Reply-To"] == mail["To"]
    assert f"\nmailto:sian@example.org?subject={reference}\n" in body

    # Leaving from the form's pages ends the form session too.
    assert any(c["name"] == "formsvc_session" for c in page.context.cookies(url + "/enquiry/"))
    page.locator(".qe-button").click()
    page.wait_for_url(neutral_site.url)
    assert not any(c["name"] == "formsvc_session" for c in page.context.cookies(url + "/enquiry/"))
    expect(page.locator("h1")).to_have_text("Weather")


def test_static_site_compresses_text_like_netlify(built_site):
    """Text goes out gzipped to browsers that accept it, so the browser tests and the
    Lighthouse benchmark measure what readers really download; images do not."""
    import gzip

    from werkzeug.test import Client

    from localrun.localsite import StaticSite

    client = Client(StaticSite(built_site))
    css = (built_site / "stylesheets" / "site.css").read_bytes()
    zipped = client.get("/stylesheets/site.css", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == css
    assert int(zipped.headers["Content-Length"]) == len(zipped.data) < len(css)
    assert zipped.headers["Content-Security-Policy"]  # Netlify's headers still apply

    plain = client.get("/stylesheets/site.css")
    assert "Content-Encoding" not in plain.headers and plain.data == css
    page = client.get("/no-such-page/", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 404 and b"Page not found" in gzip.decompress(page.data)

    png = next(built_site.rglob("*.png"))
    image = client.get("/" + png.relative_to(built_site).as_posix(), headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in image.headers and image.data == png.read_bytes()


def test_an_address_with_no_page_gets_the_404_page_of_its_language_as_netlify_toml_says(built_site):
    client = Client(StaticSite(built_site))
    for address, page in (("/no-such-page/", "404.html"), ("/cy/no-such-page/", "cy/404.html"),
                          ("/cy/how-it-works/nothing.png", "cy/404.html"), ("/cyan/", "404.html")):
        response = client.get(address)
        assert response.status_code == 404 and response.data == (built_site / page).read_bytes(), address
    assert b'<html lang="cy"' in (built_site / "cy" / "404.html").read_bytes()


@pytest.mark.parametrize("address", ["/%00", "/how-it-works/%00", "/%00/index.html", "/videos%00/"])
def test_a_null_byte_in_the_address_is_a_404_with_our_headers(built_site, address):
    """Before: the file lookup raised ValueError ("embedded null byte"), a 500 with no headers."""
    from werkzeug.test import Client

    from localrun.localsite import StaticSite

    response = Client(StaticSite(built_site)).get(address)
    assert response.status_code == 404
    assert b"Page not found" in response.data
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
