"""The enquiry pages (formsvc/enquiry.py): a real enquiry is never lost.

Most tests drive the Flask test client like a form_browser (testsupport.forms.FormBrowser):
read the page, keep its tokens, post. CSRF is on throughout. A few go over real
HTTP where the server's behaviour matters (cookies, large bodies, client address).
"""
from __future__ import annotations

import base64
import json
import logging
import re
import sqlite3
import zlib
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from formsvc.outbox import REFERENCE_RE, get_outbox
from testsupport.answers import valid_answers
from testsupport.forms import FormBrowser, HttpBrowser, hidden_fields
from testsupport.hubmail import hub_text, text_for, their_message
from testsupport.net import ServerThread
from testsupport.site import axe_violations, site_extra

TITLE = "Ask about restorative justice - Meet your offender"


def expected_stored(answers: dict[str, str]) -> dict[str, str]:
    """The answers as stored: the textarea's line breaks become "\\n"."""
    return {**answers, "message": answers["message"].replace("\r\n", "\n")}


def kept(browser: FormBrowser, answers: dict[str, str]) -> bool:
    return browser.answers() == expected_stored(answers)


# ---------------------------------------------------------------- the page


def test_form_page(form_browser):
    response = form_browser.get()
    assert response.status_code == 200
    assert form_browser.title == TITLE
    page = form_browser.page
    assert page.html["lang"] == "en-GB"
    main = page.find("main")
    assert main.find("h1").get_text(strip=True) == "Ask about restorative justice"
    text = main.get_text(" ", strip=True)
    # Without a built site, the warning keeps "Call 999." (the site's words come with the site).
    assert "If you are in danger now: Call 999." in text
    assert main.find("a", href="/privacy/")
    assert not main.find("input", type="checkbox")  # no consent box: the privacy notice covers it

    form = main.find("form")
    assert form["method"] == "post" and form["action"] == "/enquiry/" and form.has_attr("novalidate")
    names = {field["name"] for field in form.find_all(["input", "textarea"])}
    assert names == {
        "csrf_token", "form_token", "website", "name", "contact_method", "email", "email_say_who_we_are",
        "email_private", "email_notes", "phone", "leave_message", "say_who_we_are", "call_times", "crime_reference",
        "relationship", "message",
    }
    email, phone = form.find(id="email"), form.find(id="phone")
    assert (email["type"], email["autocomplete"], email["spellcheck"]) == ("email", "email", "false")
    assert (phone["type"], phone["autocomplete"]) == ("tel", "tel")
    assert form.find(id="name")["autocomplete"] == "given-name"
    # Radios sit in fieldsets with legends; optional questions say so.
    for name in ("contact_method", "email_say_who_we_are", "email_private", "leave_message", "say_who_we_are",
                 "relationship"):
        fieldset = form.find("input", attrs={"name": name}).find_parent("fieldset")
        assert fieldset and fieldset.find("legend").get_text(strip=True)
    assert form.find("label", attrs={"for": "name"}).get_text(strip=True).endswith("(optional)")
    assert "(optional)" not in form.find("label", attrs={"for": "message"}).get_text()
    assert "If you have one." in form.find(id="crime_reference-hint").get_text()
    assert "5,000 characters" in form.find(id="message-hint").get_text()
    # Both ways of contact are on the page without JavaScript, each labelled for its option.
    assert "if you chose email" in form.find(id="email-hint").get_text()
    assert "if you chose phone" in form.find(id="phone-hint").get_text()


def test_honeypot_is_hidden_from_people(form_browser):
    form_browser.get()
    field = form_browser.page.find("input", attrs={"name": "website"})
    wrapper = field.find_parent("div")
    assert "fs-hp" in wrapper["class"] and wrapper["aria-hidden"] == "true"
    assert field["tabindex"] == "-1" and field["autocomplete"] == "off"
    assert form_browser.page.find("label", attrs={"for": "website"}).get_text(strip=True) == "Leave this field empty"
    css = (Path(__file__).parent.parent / "formsvc" / "static" / "enquiry.css").read_text()
    assert re.search(r"\.fs-hp\s*{[^}]*left:\s*-10000px", css)


def test_no_inline_styles_or_scripts(form_browser, form_app):
    form_browser.get()
    assert not form_browser.page.find_all(style=True)
    assert not form_browser.page.find_all("style")
    for script in form_browser.page.find_all("script"):
        assert script.get("src", "").startswith("/enquiry/static/") and not script.get_text(strip=True)
    for path in ("/enquiry/static/enquiry.css", "/enquiry/static/enquiry.js"):
        with form_app.test_client().get(path) as response:
            assert response.status_code == 200


# ---------------------------------------------------------------- sending


def test_valid_enquiry_is_stored_once_and_confirmed(form_browser, stored):
    answers = valid_answers()
    response = form_browser.send(**answers)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location == "/enquiry/sent"  # nothing about the enquiry in the URL

    form_browser.follow()
    assert form_browser.response.status_code == 200
    assert form_browser.title == "Message sent - Meet your offender"
    panel = form_browser.page.select_one(".fs-panel")
    assert panel.find("h1").get_text(strip=True) == "Message sent"
    assert "Your reference" in panel.get_text()
    reference = form_browser.reference()
    assert REFERENCE_RE.match(reference)
    text = form_browser.page.find("main").get_text(" ", strip=True)
    assert "What happens next" in text and "call 999" in text.lower()
    assert form_browser.page.find("a", string=re.compile("what happens next"))["href"] == "/what-happens-next/"
    assert form_browser.response.headers["Cache-Control"] == "no-store"

    enquiries = stored()
    assert len(enquiries) == 1
    assert enquiries[0].reference == reference
    assert hub_text(enquiries[0].message) == text_for(enquiries[0], expected_stored(answers))


def test_double_submission_is_one_enquiry_with_one_reference(form_browser, stored):
    form_browser.get()
    page = form_browser.page
    first = form_browser.submit(**valid_answers())
    form_browser.follow()
    reference = form_browser.reference()

    # The same page posted again: a double click, or Back and send again.
    form_browser.page = page
    second = form_browser.submit(**valid_answers())
    assert (first.status_code, second.status_code) == (303, 303)
    form_browser.follow()
    assert form_browser.reference() == reference
    assert len(stored()) == 1


def test_changed_answers_sent_again_after_back_are_kept_too(form_browser, stored):
    form_browser.get()
    page = form_browser.page
    form_browser.submit(**valid_answers(message="First try"))
    form_browser.follow()
    first = form_browser.reference()

    # Back, change the message, send again: the change must not be lost.
    form_browser.page = page
    form_browser.submit(**valid_answers(message="Second try, with more detail"))
    form_browser.follow()
    assert form_browser.reference() != first
    bodies = [hub_text(e.message) for e in stored()]
    assert len(bodies) == 2
    assert sorted(their_message(b) for b in bodies) == ["First try", "Second try, with more detail"]


def test_each_fresh_form_is_a_new_enquiry(form_browser, stored):
    references = set()
    for _ in range(2):
        form_browser.send(**valid_answers())
        form_browser.follow()
        references.add(form_browser.reference())
    assert len(references) == 2 and len(stored()) == 2


def test_confirmation_needs_the_session_and_expires(form_app, form_browser, clock):
    assert form_app.test_client().get("/enquiry/sent").headers["Location"] == "/enquiry/"
    form_browser.send(**valid_answers())
    form_browser.follow()
    clock.advance(form_app.config["SENT_PAGE_MAX_AGE"] + 1)
    response = form_browser.get("/enquiry/sent")
    assert response.status_code == 303 and response.headers["Location"] == "/enquiry/"


def session_payload(client, app) -> str:
    """The session cookie's readable payload (itsdangerous signs, it does not encrypt)."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"], path="/enquiry/")
    assert cookie is not None
    data = cookie.value.split(".")
    compressed = data[0] == ""
    raw = base64.urlsafe_b64decode(data[1 if compressed else 0] + "==")
    return (zlib.decompress(raw) if compressed else raw).decode()


def test_answers_never_go_in_the_session_cookie_or_urls(form_browser, form_app):
    answers = valid_answers(contact_method="email", email="sam.secret@example.org", message="Secretive words")
    response = form_browser.send(**answers)
    assert "secret" not in response.headers["Location"].lower()
    form_browser.follow()
    payload = session_payload(form_browser.client, form_app)
    for value in ("sam.secret", "Secretive", "Siân", "07700", "CR/0042"):
        assert value not in payload
    assert set(json.loads(payload)) <= {"csrf_token", "sent"}


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "changes, field_id, message",
    [
        ({"contact_method": ""}, "contact_method", "Select how it is safe for us to contact you"),
        ({"contact_method": "email", "email": ""}, "email",
         "Enter an email address in the correct format, like name@example.com"),
        ({"contact_method": "email", "email": "sam at example"}, "email",
         "Enter an email address in the correct format, like name@example.com"),
        ({"phone": ""}, "phone", "Enter a telephone number, like 01632 960 001 or 07700 900 982"),
        ({"phone": "ring me"}, "phone", "Enter a telephone number, like 01632 960 001 or 07700 900 982"),
        ({"message": ""}, "message", "Enter what you would like to talk about"),
        ({"message": "x" * 5001}, "message", "Your message must be 5,000 characters or fewer"),
        ({"name": "x" * 101}, "name", "Your name must be 100 characters or fewer"),
        ({"crime_reference": "x" * 51}, "crime_reference", "Crime reference number must be 50 characters or fewer"),
        ({"call_times": "x" * 201}, "call_times", "Safe times to call must be 200 characters or fewer"),
        ({"leave_message": "perhaps"}, "leave_message", "Select yes if it is safe for us to leave a message"),
        ({"relationship": "x"}, "relationship",
         "Select yes if it happened to you, or no if you are writing for someone else"),
    ],
)
def test_each_problem_is_shown_the_govuk_way_with_answers_kept(form_browser, stored, changes, field_id, message):
    answers = valid_answers(**changes)
    response = form_browser.send(**answers)
    assert response.status_code == 200
    assert form_browser.title == "Error: " + TITLE

    main = form_browser.page.find("main")
    summary = main.select_one(".fs-error-summary")
    # First thing in main (after our stylesheet link), before the h1.
    assert summary.find_previous("h1") is None
    assert summary["role"] == "alert" and summary["tabindex"] == "-1" and not summary.has_attr("autofocus")
    assert summary.find("h2").get_text(strip=True) == "There is a problem"
    assert form_browser.error_links() == [(f"#{field_id}", message)]
    target = form_browser.page.find(id=field_id)
    assert target is not None and target.name in {"input", "textarea"}

    inline = form_browser.page.find(id=f"{field_id}-error")
    assert inline.find(class_="fs-visually-hidden").get_text(strip=True) == "Error:"
    assert inline.get_text(" ", strip=True) == f"Error: {message}"
    assert f"{field_id}-error" in (target.get("aria-describedby") or target.find_parent("fieldset").get("aria-describedby"))
    assert "fs-form-group--error" in inline.find_parent(class_="fs-form-group")["class"]

    # Everything typed is still there, even what was wrong.
    shown = form_browser.answers()
    for key, value in expected_stored(answers).items():
        if key in {"leave_message", "relationship"} and value not in {"yes", "no", "harmed", "on_behalf"}:
            assert shown[key] == ""  # a tampered radio value cannot be shown as a choice
        else:
            assert shown[key] == value.strip(), key
    assert stored() == []


def test_several_problems_are_listed_in_page_order(form_browser):
    form_browser.send(**valid_answers(name="x" * 101, contact_method="", message=""))
    assert [href for href, _ in form_browser.error_links()] == ["#name", "#contact_method", "#message"]


def test_fixed_answers_can_be_sent_from_the_error_page(form_browser, stored):
    form_browser.send(**valid_answers(phone=""))
    response = form_browser.submit(phone="07700 900 982")
    assert response.status_code == 303
    assert len(stored()) == 1


def test_message_is_escaped(form_browser):
    nasty = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    form_browser.send(**valid_answers(message=nasty, name="<b>Sam</b>", phone=""))
    html = form_browser.response.get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>Sam" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert form_browser.page.find(id="message").get_text() == nasty
    assert [s["src"] for s in form_browser.page.find_all("script")] == ["/enquiry/static/enquiry.js"]


# ---------------------------------------------------------------- CSRF


def test_missing_csrf_token_reshows_the_form_with_a_fresh_token(form_browser, stored):
    answers = valid_answers()
    form_browser.get()
    response = form_browser.submit(drop=("csrf_token",), **answers)
    assert response.status_code == 400
    assert form_browser.notice() == "This page timed out Your answers are below. Check them and send again."
    assert form_browser.title.startswith("Error: ")
    assert kept(form_browser, answers)
    assert form_browser.values()["csrf_token"]
    assert stored() == []
    # The fresh token works.
    assert form_browser.submit().status_code == 303
    assert len(stored()) == 1


def test_tampered_csrf_token_reshows_the_form(form_browser, stored):
    answers = valid_answers()
    form_browser.get()
    old = form_browser.values()["csrf_token"]
    response = form_browser.submit(csrf_token=old[:-4] + "AAAA", **answers)
    assert response.status_code == 400
    assert "This page timed out" in form_browser.notice()
    assert kept(form_browser, answers)
    assert form_browser.values()["csrf_token"] != old[:-4] + "AAAA"
    assert form_browser.submit().status_code == 303


def test_expired_csrf_token_reshows_the_form(make_form_app, clock):
    app = make_form_app(WTF_CSRF_TIME_LIMIT=3600)
    form_browser = FormBrowser(app.test_client())
    answers = valid_answers()
    form_browser.get()
    old = form_browser.values()["csrf_token"]
    clock.advance(2 * 3600)
    response = form_browser.submit(**answers)
    assert response.status_code == 400
    assert "This page timed out" in form_browser.notice()
    assert kept(form_browser, answers)
    assert form_browser.values()["csrf_token"] != old
    assert form_browser.submit().status_code == 303


def test_lost_session_cookie_mentions_cookies_and_recovers(form_browser, form_app, stored):
    answers = valid_answers()
    form_browser.get()
    form_browser.client.delete_cookie(form_app.config["SESSION_COOKIE_NAME"], path="/enquiry/")
    assert form_browser.submit(**answers).status_code == 400
    assert "blocking cookies" in form_browser.notice()
    assert kept(form_browser, answers)
    assert form_browser.submit().status_code == 303
    assert len(stored()) == 1


def test_csrf_failure_on_https_without_referer_is_friendly(form_app):
    client = form_app.test_client()
    form_browser = FormBrowser(client)
    form_browser.get("/enquiry/", base_url="https://localhost")
    data = {**form_browser.values(), **valid_answers()}
    response = client.post("/enquiry/", data=data, base_url="https://localhost")
    assert response.status_code == 400 and b"This page timed out" in response.data
    ok = client.post("/enquiry/", data=data, base_url="https://localhost",
                     headers={"Referer": "https://localhost/enquiry/"})
    assert ok.status_code == 303


# ---------------------------------------------------------------- form token


def test_too_fast_post_is_shown_again_and_not_stored(make_form_app, clock):
    app = make_form_app(MIN_FILL_SECONDS=30)
    form_browser = FormBrowser(app.test_client())
    answers = valid_answers()
    form_browser.get()
    old_token = form_browser.values()["form_token"]
    clock.advance(5)
    response = form_browser.submit(**answers)
    assert response.status_code == 200
    assert "Please check your answers and send again" in form_browser.notice()
    assert kept(form_browser, answers)
    assert form_browser.values()["form_token"] != old_token
    assert get_outbox(app).stats()["backlog"] == 0

    # A person reading the page takes longer than that.
    clock.advance(31)
    assert form_browser.submit().status_code == 303
    assert get_outbox(app).stats()["backlog"] == 1


@pytest.mark.parametrize("token", ["", "not-a-token", "InNvbWV0aGluZyI.AAAAAA.forged"])
def test_bad_or_missing_form_token_is_shown_again_with_a_fresh_one(form_browser, stored, token):
    answers = valid_answers()
    form_browser.get()
    form_browser.submit(form_token=token, **answers)
    assert form_browser.response.status_code == 200
    assert "Please check your answers and send again" in form_browser.notice()
    assert kept(form_browser, answers)
    fresh = form_browser.values()["form_token"]
    assert fresh and fresh != token
    assert stored() == []
    assert form_browser.submit().status_code == 303
    assert len(stored()) == 1


def test_old_form_is_shown_again(make_form_app, clock):
    app = make_form_app(FORM_TOKEN_MAX_AGE=600)
    form_browser = FormBrowser(app.test_client())
    answers = valid_answers()
    form_browser.get()
    clock.advance(700)
    form_browser.submit(**answers)
    assert form_browser.response.status_code == 200
    assert "Please check your answers and send again" in form_browser.notice()
    assert kept(form_browser, answers)
    assert form_browser.submit().status_code == 303


def test_token_problem_and_answer_problems_are_shown_together(form_browser):
    form_browser.get()
    form_browser.submit(form_token="bad", **valid_answers(message=""))
    assert "Please check your answers" in form_browser.notice()
    assert form_browser.error_links() == [("#message", "Enter what you would like to talk about")]


# ---------------------------------------------------------------- honeypot


def test_honeypot_quarantines_but_keeps_the_enquiry(form_browser, form_app):
    answers = valid_answers()
    response = form_browser.send(website="https://cheap-pills.example", **answers)
    assert response.status_code == 303
    form_browser.follow()
    reference = form_browser.reference()
    outbox = get_outbox(form_app)
    assert outbox.stats()["backlog"] == 0
    held = outbox.quarantined()
    assert [(q["reference"], q["reason"], q["purged"]) for q in held] == [(reference, "honeypot", False)]
    # An operator can release it, and then it is delivered with its answers.
    assert outbox.retry(reference)
    [enquiry] = outbox.claim()
    assert hub_text(enquiry.message) == text_for(enquiry, expected_stored(answers))


def test_honeypot_is_not_echoed_back(form_browser):
    form_browser.send(website="autofilled", **valid_answers(message=""))
    assert form_browser.values()["website"] == ""


# ---------------------------------------------------------------- rate limit


def test_no_answer_tells_how_close_a_client_is_to_the_limit(make_form_app):
    """Flask-Limiter's X-RateLimit-* counts are off (config.py): a bot would learn from them how many more
    it may send; a refused post still says when to try again (above and below)."""
    app = make_form_app(RATELIMIT_POST="2 per minute")
    form_browser = FormBrowser(app.test_client())
    responses = [form_browser.send(**valid_answers()) for _ in range(3)]
    assert [r.status_code for r in responses] == [303, 303, 429]
    for response in responses:
        assert not [name for name in response.headers.keys() if name.lower().startswith("x-ratelimit")]
    assert "Retry-After" not in responses[0].headers and "Retry-After" in responses[2].headers


def test_rate_limit_keeps_the_text_and_says_when_to_try_again(make_form_app):
    app = make_form_app(RATELIMIT_POST="2 per minute")
    form_browser = FormBrowser(app.test_client())
    for _ in range(2):
        assert form_browser.send(**valid_answers()).status_code == 303
    answers = valid_answers(message="Third message, please keep it.")
    response = form_browser.send(**answers)
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert form_browser.title.startswith("Error: ")
    assert "Wait a minute, then send again." in form_browser.notice()
    assert kept(form_browser, answers)
    assert form_browser.values()["csrf_token"] and form_browser.values()["form_token"]
    assert get_outbox(app).stats()["backlog"] == 2
    # GET is never limited.
    assert form_browser.get().status_code == 200


def test_putting_answers_right_does_not_count_towards_the_limit(make_form_app):
    app = make_form_app(RATELIMIT_POST="2 per minute")
    form_browser = FormBrowser(app.test_client())
    form_browser.get()
    for attempt in range(5):  # someone correcting their answers, one problem at a time
        form_browser.submit(**valid_answers(phone=f"0770{attempt}", message=""))
        assert form_browser.response.status_code == 200
        assert form_browser.error_links(), "expected the form with its problems"
    for _ in range(2):
        assert form_browser.send(**valid_answers()).status_code == 303
    assert form_browser.send(**valid_answers(message="A third enquiry")).status_code == 429
    assert get_outbox(app).stats()["backlog"] == 2


def test_posts_with_problems_have_a_limit_of_their_own(make_form_app):
    # Generous for people, but a bot cannot try answers for ever to learn what the checks accept.
    app = make_form_app(RATELIMIT_POST="5 per minute", RATELIMIT_INVALID_POST="3 per minute")
    form_browser = FormBrowser(app.test_client())
    form_browser.get()
    for _ in range(3):
        assert form_browser.submit(**valid_answers(email="not an address", contact_method="email")).status_code == 200
    answers = valid_answers(message="Now it is right, please keep it.")
    assert form_browser.submit(**answers).status_code == 429
    assert kept(form_browser, answers)
    assert get_outbox(app).stats()["backlog"] == 0


# ---------------------------------------------------------------- too large


def test_oversized_body_gets_a_friendly_413(form_browser, form_app):
    form_browser.get()
    data = {**form_browser.values(), **valid_answers(message="x" * (form_app.config["MAX_CONTENT_LENGTH"] + 1))}
    response = form_browser.client.post("/enquiry/", data=data)
    assert response.status_code == 413
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.find("h1").get_text(strip=True) == "Your message is too long"
    text = page.find("main").get_text(" ", strip=True)
    assert "5,000 characters" in text and "could not keep it" in text
    assert page.find("main").find("a", href="/enquiry/")


# ---------------------------------------------------------------- outbox unavailable


def test_locked_outbox_gives_503_with_answers_kept(form_browser, form_app, stored):
    outbox = get_outbox(form_app)
    outbox.stats()  # creates the database
    outbox.busy_timeout = 0.2
    answers = valid_answers()
    form_browser.get()
    locker = sqlite3.connect(outbox.path, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        response = form_browser.submit(**answers)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert response.status_code == 503
    notice = form_browser.notice()
    assert "Sorry, we could not take your enquiry" in notice
    assert "Nothing has been sent. Please try again in a few minutes." in notice
    assert kept(form_browser, answers)
    # Once the outbox is free, the same page sends it.
    assert form_browser.submit().status_code == 303
    assert len(stored()) == 1


def test_broken_outbox_file_gives_503(make_form_app, tmp_path):
    app = make_form_app()
    browser = FormBrowser(app.test_client())
    browser.get()
    # Something that is not a database where the database should be (works as root too,
    # unlike a read-only folder).
    get_outbox(app).path.mkdir(parents=True)
    response = browser.submit(**valid_answers())
    assert response.status_code == 503
    assert "Nothing has been sent" in browser.notice()
    assert kept(browser, valid_answers())


# ---------------------------------------------------------------- quick exit


def test_exit_clears_the_session_and_leaves(form_browser, form_app):
    form_browser.send(**valid_answers())
    cookie_name = form_app.config["SESSION_COOKIE_NAME"]
    assert form_browser.client.get_cookie(cookie_name, path="/enquiry/") is not None
    response = form_browser.client.get("/enquiry/exit")
    assert response.status_code == 303
    assert response.headers["Location"] == "https://neutral.example/weather"
    # Deleted here, and at the form's address in each other language (/cy/enquiry/: test_i18n.py).
    deleted = {re.search(r"Path=([^;]+)", cookie).group(1) for cookie in response.headers.getlist("Set-Cookie")
               if cookie.startswith(f"{cookie_name}=;") and ("Max-Age=0" in cookie or "1970" in cookie)}
    assert deleted == {"/enquiry/", "/cy/enquiry/"}
    assert form_browser.client.get_cookie(cookie_name, path="/enquiry/") is None
    # The confirmation (and its reference) is gone with it.
    assert form_browser.client.get("/enquiry/sent").headers["Location"] == "/enquiry/"


def test_exit_works_by_post_without_a_token(form_app):
    response = form_app.test_client().post("/enquiry/exit")
    assert response.status_code == 303
    assert response.headers["Location"] == form_app.config["EXIT_URL"]


# ---------------------------------------------------------------- logs


def test_no_personal_data_in_logs(make_form_app, caplog):
    app = make_form_app(RATELIMIT_POST="2 per minute")
    secrets_ = {
        "name": "Zebedee",
        "email": "zebedee.private@example.org",
        "phone": "07700 900 457",
        "call_times": "Thursdays only",
        "crime_reference": "CR/99887/25",
        "message": "Unmistakable words about what happened",
    }
    caplog.set_level(logging.DEBUG)
    form_browser = FormBrowser(app.test_client())
    form_browser.send(**valid_answers(**{**secrets_, "message": ""}))  # invalid: shown again
    form_browser.submit(drop=("csrf_token",), message=secrets_["message"])  # CSRF failure
    form_browser.submit(form_token="bad")  # token problem
    form_browser.submit()  # stored
    form_browser.send(website="x", **valid_answers(**secrets_))  # quarantined
    form_browser.send(**valid_answers(**secrets_))  # rate limited
    assert form_browser.response.status_code == 429
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "stored" in logged  # the capture works
    for value in secrets_.values():
        assert value not in logged
        assert value.split()[0] not in logged


# ---------------------------------------------------------------- real HTTP


def test_over_real_http_send_and_confirm(form_app, stored):
    with ServerThread(form_app) as server:
        client = HttpBrowser(server.url)
        status, _, _, html = client.open("/enquiry/")
        assert status == 200
        status, url, headers, html = client.open("/enquiry/", {**hidden_fields(html), **valid_answers()})
        assert status == 200 and url.endswith("/enquiry/sent")  # followed the 303
        assert headers["Cache-Control"] == "no-store"
        reference = BeautifulSoup(html, "html.parser").select_one(".fs-panel__reference").get_text(strip=True)
    [enquiry] = stored()
    assert enquiry.reference == reference


def test_over_real_http_oversized_post_gets_413_page(form_app):
    with ServerThread(form_app) as server:
        client = HttpBrowser(server.url)
        _, _, _, html = client.open("/enquiry/")
        status, _, headers, html = client.open(
            "/enquiry/", {**hidden_fields(html), **valid_answers(message="x" * 200_000)}
        )
    assert status == 413
    assert "Your message is too long" in html
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_over_real_http_rate_limit_by_client_address(make_form_app):
    app = make_form_app(RATELIMIT_POST="1 per minute")
    with ServerThread(app) as server:
        client = HttpBrowser(server.url)
        _, _, _, html = client.open("/enquiry/")
        status, _, _, _ = client.open("/enquiry/", {**hidden_fields(html), **valid_answers()})
        assert status == 200
        _, _, _, html = client.open("/enquiry/")
        answers = valid_answers(message="Please keep this")
        status, _, headers, html = client.open("/enquiry/", {**hidden_fields(html), **answers})
    assert status == 429
    assert int(headers["Retry-After"]) > 0
    assert BeautifulSoup(html, "html.parser").find(id="message").get_text() == "Please keep this"


# ---------------------------------------------------------------- in the built site's shell


def support_text(page: BeautifulSoup) -> str:
    section = page.select_one("section.fs-support")
    assert section is not None, "no support section"
    assert section.find("h2").get_text(strip=True) == "Support while you decide"
    return sentence_text(section)


def sentence_text(element) -> str:
    """The words as read: no-break spaces as spaces, no space before a full stop after a link."""
    return re.sub(r"\s+([.,])", r"\1", element.get_text(" ", strip=True).replace("\xa0", " "))


def test_the_form_and_the_confirmation_say_where_to_get_support(make_form_app):
    """The support facts are written once, in mkdocs.yml (extra), and reach the form's pages
    through the built site's manifest (SITE_EXTRA): the same words, numbers and links."""
    extra = site_extra()
    form_browser = FormBrowser(make_form_app(SITE_EXTRA=extra).test_client())
    form_browser.get()
    pages = [form_browser.page]
    form_browser.submit(**valid_answers())
    form_browser.follow()
    pages.append(form_browser.page)
    assert form_browser.title == "Message sent - Meet your offender"
    support, lines = extra["victim_support"], extra["domestic_abuse_lines"]
    for page in pages:
        text = support_text(page)
        assert support["about"] in text
        assert f"Call {support['name']} on {support['phone']}. {support['when']}" in text
        assert page.select_one(f'section.fs-support a[href="tel:{support["phone"].replace(" ", "")}"]')
        assert extra["non_emergency"] in text
        for line in lines:
            assert f"Call {line['name']} on {line['phone']}" in text
            assert line["about"] in text
            assert page.select_one(f'section.fs-support a[href="tel:{line["phone"].replace(" ", "")}"]')
        assert page.select_one('section.fs-support a[href="/support/"]')
        # 999 and the Silent Solution are in the warning on the same page, in the site's words.
        warning = sentence_text(page.select_one(".fs-warning-text"))
        assert f"If you are in danger now: {extra['emergency']}" in warning
        assert "press 55" in warning


def test_without_a_built_site_the_form_still_says_call_999_and_links_to_support(form_browser):
    form_browser.get()
    page = form_browser.page
    assert "If you are in danger now: Call 999." in sentence_text(page.select_one(".fs-warning-text"))
    assert page.select_one('section.fs-support a[href="/support/"]')
    # No number is guessed or copied here: the helplines come with the site.
    assert not page.select('section.fs-support a[href^="tel:"]')


def test_the_form_has_an_early_calm_word_for_someone_who_lives_with_the_person(make_form_app):
    form_browser = FormBrowser(make_form_app(SITE_EXTRA=site_extra()).test_client())
    form_browser.get()
    main = form_browser.page.find("main")
    word = main.select_one(".fs-inset-text")
    text = sentence_text(word)
    assert "If you live with the person who harmed you, or you are afraid of them:" in text
    assert "Exit this page" in text and "deletes this form's cookie" in text
    assert word.find("a", href="/leave-quickly/")
    assert word.find("a", href="#fs-helplines") and form_browser.page.find(id="fs-helplines")
    # Before the questions: the first thing after the page's introduction.
    assert str(main).index("fs-inset-text") < str(main).index("<form")


def test_the_confirmation_shows_only_what_the_force_has_set(make_form_app, form_app):
    """Who reads the message and how the hub makes contact are the force's to promise
    (mkdocs.yml extra.who_reads, extra.contact_promise): shown as the site sets them,
    never written into the page itself."""
    extra = site_extra()
    for app, shown in ((make_form_app(SITE_EXTRA=extra), True), (form_app, False)):
        browser = FormBrowser(app.test_client())
        browser.get()
        browser.submit(**valid_answers())
        browser.follow()
        text = sentence_text(browser.page.find("main"))
        for key in ("who_reads", "contact_promise"):
            assert (extra[key] in text) is shown, key
        assert "trained member" not in text and "only in the way" not in text


def test_the_confirmation_says_how_soon_we_reply_only_when_the_site_says(form_app):
    """site_reply_within (extra.reply_within from the site's settings) is given to the
    template by whoever reads the site's manifest; without it the page guesses nothing."""
    from flask import render_template

    with form_app.test_request_context("/enquiry/sent"):
        without = BeautifulSoup(render_template("enquiry_sent.html", reference="RJ-7K2M9QDX"), "html.parser")
        with_it = BeautifulSoup(render_template("enquiry_sent.html", reference="RJ-7K2M9QDX",
                                                site_reply_within="5 working days"), "html.parser")
    assert "We aim to reply within" not in without.get_text()
    sentence = next(p for p in with_it.select("p.fs-body") if "We aim to reply within" in p.get_text())
    assert sentence_text(sentence) == "We aim to reply within 5 working days."


def csp_script_hashes(response) -> set[str]:
    policy = response.headers["Content-Security-Policy"]
    [script_src] = [d.split()[1:] for d in policy.split(";") if d.split() and d.split()[0] == "script-src"]
    return {source for source in script_src if source.startswith("'sha")}


def test_form_pages_in_the_site_shell(built_site, make_form_app, neutral_site):
    import hashlib

    app = make_form_app(SITE_DIR=str(built_site))
    assert app.config["EXIT_URL"] == neutral_site.url  # from the build, set in one place
    form_browser = FormBrowser(app.test_client())

    pages = [form_browser.get()]
    pages.append(form_browser.submit(**valid_answers(message="")))
    form_browser.submit(message="Hello")
    pages.append(form_browser.follow())
    pages.append(form_browser.get("/enquiry/nothing-here"))
    for response in pages:
        page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        assert page.select_one(".md-header"), "the site's own header"
        assert len(page.find_all("h1")) == 1
        assert page.select_one(".fs-page") is not None
        for link in page.select("[data-qe-link]"):
            assert link["href"] == "/enquiry/exit"
        # Every inline script of the shell is allowed by hash, and nothing else is inline.
        hashes = csp_script_hashes(response)
        for script in page.find_all("script", src=False):
            if script.get("type", "text/javascript") not in {"text/javascript", "module"}:
                continue  # data, such as Material's JSON config
            digest = base64.b64encode(hashlib.sha256(script.get_text().encode()).digest()).decode()
            assert f"'sha256-{digest}'" in hashes
        assert not page.find_all(style=True)
    assert form_browser.title == "Page not found - Meet your offender"
    assert pages[1].status_code == 200 and BeautifulSoup(pages[1].data, "html.parser").title.get_text().startswith("Error: ")
    assert pages[2].status_code == 200


@pytest.mark.browser
def test_in_a_real_browser_errors_focus_and_accessibility(page, form_site):
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(form_site.url + "/enquiry/")
    assert axe_violations(page) == ""

    page.locator("#contact_method").check(force=True)
    page.locator("#email").fill("not an email")
    page.locator("form.fs-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.title().startswith("Error: ")
    assert page.evaluate("document.activeElement.classList.contains('fs-error-summary')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert axe_violations(page) == ""

    # The summary link takes the reader to the field.
    page.locator(".fs-error-summary a[href='#email']").click()
    assert page.evaluate("document.activeElement.id") == "email"

    page.locator("#email").fill("sam@example.org")
    page.locator("#message").fill("I would like to know more.")
    page.locator("form.fs-form button[type=submit]").click()
    page.wait_for_url("**/enquiry/sent")
    assert REFERENCE_RE.match(page.locator(".fs-panel__reference").inner_text().strip())
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert axe_violations(page) == ""
    assert problems == []  # no CSP violations, no missing files
    assert len(stored_in(form_site.app)) == 1


@pytest.mark.browser
def test_in_a_real_browser_without_javascript(browser, form_site):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(form_site.url + "/enquiry/")
        page.locator("#contact_method-phone").check()
        page.locator("#phone").fill("07700 900 982")
        page.locator("#leave_message-no").check()
        page.locator("#message").fill("Sent without JavaScript")
        page.locator("form.fs-form button[type=submit]").click()
        page.wait_for_url("**/enquiry/sent")
        assert page.locator(".fs-panel h1").inner_text().strip() == "Message sent"
    finally:
        context.close()
    [enquiry] = stored_in(form_site.app)
    text = hub_text(enquiry.message)
    assert their_message(text) == "Sent without JavaScript"
    assert "Is it safe for us to leave a message on this phone? No - do NOT leave a message" in text


def stored_in(app):
    return get_outbox(app).claim(limit=1000)


def test_the_sites_reply_time_reaches_the_confirmation_page(make_form_app, built_site):
    import json

    reply_within = json.loads((built_site / "site-manifest.json").read_text())["extra"]["reply_within"]
    assert reply_within  # mkdocs.yml extra.reply_within, passed on by the site's finishing step
    browser = FormBrowser(make_form_app(SITE_DIR=str(built_site)).test_client())
    assert browser.send(**valid_answers()).status_code == 303
    browser.follow()
    text = browser.page.find("main").get_text(" ", strip=True)
    assert f"We aim to reply within {reply_within} ." in text or f"We aim to reply within {reply_within}." in text
    # The facts written once in mkdocs.yml reach the form's pages the same way (issue 19).
    extra = json.loads((built_site / "site-manifest.json").read_text())["extra"]
    main = sentence_text(browser.page.find("main"))
    assert extra["emergency"] in main and "press 55" in extra["emergency"]
    assert extra["victim_support"]["about"] in main and extra["who_reads"] in main
    assert all(line["name"] in main for line in extra["domestic_abuse_lines"])
