"""The form in each language (formsvc/i18n.py): Welsh at /cy/enquiry/, through the real service over
HTTP, in the Welsh site's frame, to the hub's inbox over real SMTP; the English form as it was; a
third language as a catalogue in a folder; the catalogues complete and compiled."""
from __future__ import annotations

import re
import sqlite3
import urllib.parse

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

from formsvc.i18n import TRANSLATIONS, catalogue_languages, language_names
from formsvc.outbox import get_outbox
from testsupport import ROOT
from testsupport.answers import valid_answers
from testsupport.forms import FormBrowser, HttpBrowser, form_catalogue, hidden_fields
from testsupport.hubmail import delivered_body, their_message
from testsupport.site import axe_violations

#: What a Welsh speaker might type: Welsh letters, a line break, a dash, kept exactly.
WELSH_MESSAGE = "Hoffwn i wybod mwy am gwrdd â'r person.\r\nRwy'n poeni — ŵyr a ŷd, Siân."
CATALOGUES = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def page(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


# ---------------------------------------------------------------- Welsh, end to end

def test_the_welsh_form_end_to_end_in_the_welsh_frame_to_the_hubs_inbox(make_form_site, smtp_server):
    server = make_form_site()
    reader = HttpBrowser(server.url)
    status, _, headers, html = reader.open("/cy/enquiry/")
    assert status == 200
    form = page(html)
    # The Welsh site's frame: lang="cy", the Welsh exit first after <body>, the switch to the English form.
    assert form.html["lang"] == "cy"
    first = form.body.find(True)
    assert first.get("data-qe") is not None and "Gadael y dudalen" in first.get_text(" ", strip=True)
    switch = form.select_one("p.lang-switch a[hreflang=en]")
    assert switch["href"] == "/enquiry/" and switch.get_text(strip=True) == "English"
    assert form.title.get_text().startswith("Gofyn am gyfiawnder adferol")
    labels = [label.get_text(" ", strip=True) for label in form.select("form.fs-form label, form.fs-form legend")]
    assert "Sut mae'n ddiogel i ni gysylltu â chi?" in labels and "Am beth yr hoffech chi siarad?" in labels
    assert "What would you like to talk about?" not in html
    assert form.select_one("form.fs-form")["action"] == "/cy/enquiry/"
    # Its one cookie, at the Welsh form's address only; the same security headers as the English form.
    [cookie] = [c for c in reader.cookies]
    assert cookie.path == "/cy/enquiry/"
    english_headers = HttpBrowser(server.url).open("/enquiry/")[2]
    assert headers["Content-Security-Policy"] == english_headers["Content-Security-Policy"]

    # A wrong answer: the same clear answer as in English, in Welsh, with the person's text kept.
    answers = valid_answers(contact_method="email", email="sian@", message=WELSH_MESSAGE)
    status, _, _, html = reader.open("/cy/enquiry/", {**hidden_fields(html), **answers})
    problem = page(html)
    assert status == 200 and problem.title.get_text().startswith("Gwall: ")
    assert problem.select_one(".fs-error-summary__title").get_text(strip=True) == "Mae problem wedi codi"
    assert [a.get_text(strip=True) for a in problem.select(".fs-error-summary a")] == [
        "Rhowch gyfeiriad e-bost yn y fformat cywir, fel name@example.com"]
    assert problem.select_one("#email-error").get_text(" ", strip=True).startswith("Gwall:")
    assert problem.select_one("#message").get_text() == WELSH_MESSAGE.replace("\r\n", "\n")

    # Put right and sent: the confirmation in Welsh, at the Welsh address.
    status, url, _, html = reader.open("/cy/enquiry/", {**hidden_fields(html), **answers, "email": "sian@example.org"})
    sent = page(html)
    assert status == 200 and url.endswith("/cy/enquiry/sent")
    assert sent.html["lang"] == "cy"
    assert sent.select_one(".fs-panel__title").get_text(strip=True) == "Neges wedi'i hanfon"
    assert "Eich cyfeirnod" in sent.select_one(".fs-panel__body").get_text()
    reference = sent.select_one(".fs-panel__reference").get_text(strip=True)
    # The Welsh site's facts, in Welsh (components/site-words/messages.json), not the English ones.
    assert "phwyswch 55 pan ofynnir i chi" in html and "Llinell Gymorth Cymorth i Ddioddefwyr" in html
    assert "Silent Solution" in html and "If you cannot speak" not in html

    # The hub's email: English, saying the language, the person's words exactly as typed.
    body = delivered_body(server.app, smtp_server)
    assert f"Restorative justice enquiry {reference}" in body
    assert "\nLanguage: Welsh (Cymraeg)\n" in body
    assert "How is it safe for us to contact you? Email - Only contact this person by EMAIL." in body
    assert "Email address: sian@example.org" in body
    assert "Cyfeiriad e-bost" not in body and "Sut mae" not in body
    assert their_message(body) == WELSH_MESSAGE.replace("\r\n", "\n")


def test_the_english_form_is_unchanged_and_its_email_says_english(make_form_site, smtp_server):
    server = make_form_site()
    # Asking for Welsh in the browser's languages changes nothing: the address chooses.
    reader = HttpBrowser(server.url, headers={"Accept-Language": "cy"})
    status, _, _, html = reader.open("/enquiry/")
    form = page(html)
    assert status == 200 and form.html["lang"] == "en"
    assert form.select_one("p.lang-switch a[hreflang=cy]")["href"] == "/cy/enquiry/"
    assert form.find("h1").get_text(strip=True) == "Ask about restorative justice"
    status, url, _, html = reader.open("/enquiry/", {**hidden_fields(html), **valid_answers(message=WELSH_MESSAGE)})
    assert url.endswith("/enquiry/sent") and "/cy/" not in url
    assert page(html).select_one(".fs-panel__title").get_text(strip=True) == "Message sent"
    body = delivered_body(server.app, smtp_server)
    assert "\nLanguage: English\n" in body
    assert their_message(body) == WELSH_MESSAGE.replace("\r\n", "\n")


# ---------------------------------------------------------------- the address chooses, nothing else

def test_the_language_comes_from_the_address_never_from_the_browser_or_a_cookie(form_app):
    client = form_app.test_client()
    client.get("/cy/enquiry/")  # a cookie for the Welsh form, at its own address, and no other
    assert client.get_cookie(form_app.config["SESSION_COOKIE_NAME"], path="/cy/enquiry/") is not None
    assert client.get_cookie(form_app.config["SESSION_COOKIE_NAME"], path="/enquiry/") is None
    english = client.get("/enquiry/", headers={"Accept-Language": "cy"})
    assert page(english.get_data(as_text=True)).html["lang"] == "en-GB"
    assert "Ask about restorative justice" in english.get_data(as_text=True)
    welsh = client.get("/cy/enquiry/", headers={"Accept-Language": "en"})
    assert page(welsh.get_data(as_text=True)).html["lang"] == "cy"
    # A language the form does not have is not a form.
    assert client.get("/xx/enquiry/").status_code == 404


def test_the_welsh_form_redirects_within_welsh(form_app):
    client = form_app.test_client()
    assert client.get("/cy/enquiry").headers["Location"] == "/cy/enquiry/"
    # The confirmation without a message sent goes back to the Welsh form, by path.
    assert client.get("/cy/enquiry/sent").headers["Location"] == "/cy/enquiry/"


def test_exit_from_the_welsh_form_deletes_the_forms_cookie_in_every_language(form_app):
    client = form_app.test_client()
    client.get("/enquiry/")
    client.get("/cy/enquiry/")
    name = form_app.config["SESSION_COOKIE_NAME"]
    response = client.get("/cy/enquiry/exit")
    assert response.status_code == 303 and response.headers["Location"] == form_app.config["EXIT_URL"]
    assert client.get_cookie(name, path="/cy/enquiry/") is None
    assert client.get_cookie(name, path="/enquiry/") is None


def test_the_welsh_too_large_page(form_app):
    client = form_app.test_client()
    response = client.post("/cy/enquiry/", data={"message": "x" * 100_000})
    assert response.status_code == 413
    html = page(response.get_data(as_text=True))
    assert html.html["lang"] == "cy"
    assert html.find("h1").get_text(strip=True) == "Mae eich neges yn rhy hir"
    assert "5,000 nod" in html.get_text()
    assert html.select_one("a[href='/cy/enquiry/']")


def test_the_welsh_503_keeps_the_answers(form_app):
    browser = FormBrowser(form_app.test_client())
    outbox = get_outbox(form_app)
    outbox.stats()
    outbox.busy_timeout = 0.2
    browser.get("/cy/enquiry/")
    locker = sqlite3.connect(outbox.path, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        response = browser.submit(**valid_answers(message=WELSH_MESSAGE))
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert response.status_code == 503
    assert browser.notice().startswith("Mae'n ddrwg gennym, ni allem dderbyn eich ymholiad")
    assert browser.answers()["message"] == WELSH_MESSAGE.replace("\r\n", "\n")
    assert browser.submit().headers["Location"] == "/cy/enquiry/sent"


def test_the_welsh_rate_limit_says_when_to_send_again_in_welsh_and_keeps_the_text(make_form_app):
    browser = FormBrowser(make_form_app(RATELIMIT_POST="1 per minute").test_client())
    browser.get("/cy/enquiry/")
    assert browser.submit(**valid_answers()).status_code == 303
    browser.get("/cy/enquiry/")
    assert browser.submit(**valid_answers(message=WELSH_MESSAGE)).status_code == 429
    assert browser.title.startswith("Gwall: ")
    assert "Arhoswch funud, yna anfonwch eto." in browser.notice()
    assert browser.answers()["message"] == WELSH_MESSAGE.replace("\r\n", "\n")


def test_an_unreadable_post_to_the_welsh_form_is_refused_in_welsh(form_app):
    browser = FormBrowser(form_app.test_client())
    browser.get("/cy/enquiry/")
    # Latin-1 bytes in a post that says UTF-8.
    body = urllib.parse.urlencode({**browser.values(), **valid_answers(message="Caf\u00e9")}, encoding="iso-8859-1")
    browser._load(browser.client.post("/cy/enquiry/", data=body.encode("ascii"),
                                      content_type="application/x-www-form-urlencoded; charset=utf-8"))
    assert browser.response.status_code == 400
    assert browser.notice().startswith("Mae'n ddrwg gennym, ni allem ddarllen eich atebion")
    assert browser.page.html["lang"] == "cy"


def test_welsh_error_pages_are_in_welsh(form_app):
    response = form_app.test_client().get("/cy/enquiry/nothing-here")
    html = page(response.get_data(as_text=True))
    assert response.status_code == 404 and html.html["lang"] == "cy"
    assert html.find("h1").get_text(strip=True) == "Heb ddod o hyd i'r dudalen"


# ---------------------------------------------------------------- a third language: a catalogue in a folder

def test_a_third_language_is_a_folder_and_a_catalogue_not_code(make_form_app, tmp_path, smtp_server):
    folder = form_catalogue(tmp_path / "translations", "kw", {
        "Ask about restorative justice": "Govyn a-dro dhe justis restorativ (test)",
        "There is a problem": "Yma kudyn (test)",
        "Send message": "Danvon messach (test)",
        "Enter what you would like to talk about": "Skrifewgh (test)",
    })
    app = make_form_app(TRANSLATIONS_DIR=str(folder), DATA_DIR=str(tmp_path / "data"))
    assert app.extensions["form_languages"] == ["kw"]
    browser = FormBrowser(app.test_client())
    browser.get("/kw/enquiry/")
    assert browser.page.html["lang"] == "kw"
    assert browser.page.find("h1").get_text(strip=True) == "Govyn a-dro dhe justis restorativ (test)"
    # A word not yet translated is shown in English rather than not at all.
    assert "How is it safe for us to contact you?" in browser.page.get_text()
    browser.submit(**valid_answers(message=""))
    assert browser.page.select_one(".fs-error-summary__title").get_text(strip=True) == "Yma kudyn (test)"
    assert browser.error_links() == [("#message", "Skrifewgh (test)")]
    assert browser.submit(message="Dydh da").headers["Location"] == "/kw/enquiry/sent"
    assert "\nLanguage: Cornish (Kernewek)\n" in delivered_body(app, smtp_server)
    # The Welsh form is not there: this folder has no Welsh catalogue.
    assert app.test_client().get("/cy/enquiry/").status_code == 404


def test_a_catalogue_not_compiled_is_not_offered_and_says_so(tmp_path, caplog):
    folder = form_catalogue(tmp_path, "kw", {"Send message": "Danvon messach"})
    (folder / "kw" / "LC_MESSAGES" / "messages.mo").unlink()
    assert catalogue_languages(folder) == []
    assert "make setup" in caplog.text


def test_the_hub_reads_each_languages_name():
    assert language_names("cy") == "Welsh (Cymraeg)"
    assert language_names("en") == "English"
    assert language_names(None) == "English"  # stored before the form had a choice: English


# ---------------------------------------------------------------- the catalogues themselves

def _words_in_the_code() -> set[str]:
    """What `make translations` finds (babel.cfg, and _l as the Makefile says), read under formsvc/ only."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    assert all(pattern.startswith("formsvc/") for pattern, _ in method_map)
    method_map = [(pattern.removeprefix("formsvc/"), method) for pattern, method in method_map]
    options_map = {pattern.removeprefix("formsvc/"): options for pattern, options in options_map.items()}
    assert "-k _l" in (ROOT / "Makefile").read_text(encoding="utf-8")
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    found = extract_from_dir(ROOT / "formsvc", method_map, options_map, keywords=keywords)
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


_PLACEHOLDERS = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+(?::[^}]*)?\}|</?[a-z]+\b")


def test_welsh_has_a_catalogue():
    assert "cy" in {po.parent.parent.name for po in CATALOGUES}


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: po.parent.parent.name)
def test_every_word_of_the_form_is_translated(po):
    with open(po, "rb") as file:
        catalog = read_po(file)
    entries = {message.id: message for message in catalog if message.id}
    missing = sorted(_words_in_the_code() - set(entries))
    assert not missing, f"{po}: run `make translations` and translate: {missing}"
    for english, message in entries.items():
        assert message.string and message.string.strip(), f"{po}: no translation for {english!r}"
        assert not message.fuzzy, f"{po}: {english!r} is marked fuzzy: check it, then remove the fuzzy flag"
        assert message.string != english or not re.search(r"[a-z]{3}", english), f"{po}: {english!r} is English"
        # Every %(name)s, {name} and tag of the English is in the translation, so nothing breaks.
        assert sorted(_PLACEHOLDERS.findall(english)) == sorted(_PLACEHOLDERS.findall(message.string)), english


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: po.parent.parent.name)
def test_each_compiled_catalogue_is_fresh(po):
    mo = po.with_suffix(".mo")
    assert mo.is_file(), f"{mo} is missing: run `make setup`"
    with open(po, "rb") as file:
        source = {m.id: m.string for m in read_po(file) if m.id and not m.fuzzy}
    with open(mo, "rb") as file:
        compiled = {m.id: m.string for m in read_mo(file) if m.id}
    assert compiled == source, f"{mo} is older than {po}: run `make setup`"


def test_compiled_catalogues_are_not_kept_in_git():
    assert "*.mo" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_the_welsh_form_links_to_the_welsh_pages(make_form_site):
    html = HttpBrowser(make_form_site().url).open("/cy/enquiry/")[3]
    links = {a["href"] for a in page(html).select("main a[href^='/']")}
    assert "/cy/privacy/" in links and "/cy/leave-quickly/" in links
    assert not {link for link in links if re.match(r"/(privacy|leave-quickly|support)/", link)}


# ---------------------------------------------------------------- in a real browser

@pytest.mark.browser
def test_in_a_real_browser_the_welsh_form_works_and_passes_axe(page, form_site):
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(form_site.url + "/cy/enquiry/")
    assert axe_violations(page) == ""
    page.locator("#contact_method").check(force=True)
    page.locator("#email").fill("nid e-bost")
    page.locator("#message").fill(WELSH_MESSAGE)
    page.locator("form.fs-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.title().startswith("Gwall: ")
    assert page.evaluate("document.activeElement.classList.contains('fs-error-summary')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert axe_violations(page) == ""
    page.locator("#email").fill("sian@example.org")
    page.locator("form.fs-form button[type=submit]").click()
    page.wait_for_url("**/cy/enquiry/sent")
    assert page.locator(".fs-panel__title").inner_text().strip() == "Neges wedi'i hanfon"
    assert axe_violations(page) == ""
    assert problems == []  # no CSP violations, no missing files
