"""The enquiry form's cleaning and validation (formsvc/forms.py), without HTTP."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from formsvc.forms import (
    MSG_CONTACT_METHOD,
    MSG_EMAIL,
    MSG_MESSAGE,
    MSG_PHONE,
    EnquiryForm,
    clean_line,
    clean_text,
)
from testsupport.answers import valid_answers


@pytest.fixture
def check(form_app):
    """``check(**answers)`` -> (form, {field: [errors]}) for the answers as posted."""

    def run(**answers):
        with form_app.test_request_context(method="POST"):
            form = EnquiryForm(formdata=MultiDict(answers))
            form.validate()
            return form, {name: errors for name, errors in form.errors.items() if errors}

    return run


def test_valid_answers_pass_and_are_all_strings(check):
    form, errors = check(**valid_answers())
    assert errors == {}
    answers = form.answers()
    assert set(answers) == {
        "name", "contact_method", "email", "email_say_who_we_are", "email_private", "email_notes", "phone",
        "leave_message", "say_who_we_are", "call_times", "crime_reference", "relationship", "message",
    }
    assert all(isinstance(v, str) for v in answers.values())
    assert answers["message"] == "I would like to know more about meeting him.\nNot sure yet."


def test_only_contact_method_email_and_message_are_needed(check):
    form, errors = check(contact_method="email", email="sam@example.org", message="Hello")
    assert errors == {}
    answers = form.answers()
    assert answers["name"] == answers["phone"] == answers["leave_message"] == answers["relationship"] == ""


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"contact_method": ""}, "contact_method", MSG_CONTACT_METHOD),
        ({"contact_method": "post"}, "contact_method", MSG_CONTACT_METHOD),
        ({"contact_method": "email", "email": ""}, "email", MSG_EMAIL),
        ({"contact_method": "email", "email": "sam.example.org"}, "email", MSG_EMAIL),
        ({"contact_method": "email", "email": "sam@example"}, "email", MSG_EMAIL),
        ({"contact_method": "email", "email": "Sam <sam@example.org>"}, "email", MSG_EMAIL),
        ({"contact_method": "email", "email": "a@b.org, c@d.org"}, "email", MSG_EMAIL),
        ({"contact_method": "email", "email": "x" * 250 + "@b.org"}, "email", MSG_EMAIL),
        ({"contact_method": "phone", "phone": ""}, "phone", MSG_PHONE),
        ({"contact_method": "phone", "phone": "call me"}, "phone", MSG_PHONE),
        ({"contact_method": "phone", "phone": "12345"}, "phone", MSG_PHONE),
        ({"contact_method": "phone", "phone": "1" * 21}, "phone", MSG_PHONE),
        ({"contact_method": "phone", "phone": "07700 900 982 ext. 5"}, "phone", MSG_PHONE),
        # The other way of contact is optional, but checked when given.
        ({"contact_method": "email", "email": "sam@example.org", "phone": "07700"}, "phone", MSG_PHONE),
        ({"contact_method": "phone", "email": "not an email"}, "email", MSG_EMAIL),
        ({"message": ""}, "message", MSG_MESSAGE),
        ({"message": " \r\n\t \x00 "}, "message", MSG_MESSAGE),
        ({"message": "x" * 5001}, "message", "Your message must be 5,000 characters or fewer"),
        ({"name": "x" * 101}, "name", "Your name must be 100 characters or fewer"),
        ({"call_times": "x" * 201}, "call_times", "Safe times to call must be 200 characters or fewer"),
        ({"crime_reference": "x" * 51}, "crime_reference", "Crime reference number must be 50 characters or fewer"),
        ({"leave_message": "maybe"}, "leave_message", "Select yes if it is safe for us to leave a message"),
        ({"say_who_we_are": "1"}, "say_who_we_are", "Select yes if we can say who we are when we call"),
        ({"email_say_who_we_are": "maybe"}, "email_say_who_we_are",
         "Select yes if we can say who we are in the sender name and subject line"),
        ({"email_private": "1"}, "email_private", "Select yes if you are the only person who can read your emails"),
        ({"email_notes": "x" * 201}, "email_notes", "What we should know before we write must be 200 characters or fewer"),
        ({"relationship": "other"}, "relationship",
         "Select yes if it happened to you, or no if you are writing for someone else"),
    ],
)
def test_each_problem_has_one_govuk_message(check, changes, field, message):
    form, errors = check(**valid_answers(**changes))
    assert errors == {field: [message]}


@pytest.mark.parametrize("phone", ["01632 960 001", "07700 900 982", "+44 (0)7700 900-982", "0044 7700900982", "1234567"])
def test_phones_in_any_usual_format_are_accepted(check, phone):
    assert check(**valid_answers(phone=phone))[1] == {}


@pytest.mark.parametrize("email", ["name@example.com", "first.last+rj@sub.example.co.uk", "O'Neil@example.org"])
def test_usual_email_addresses_are_accepted(check, email):
    assert check(**valid_answers(contact_method="email", email=email))[1] == {}


def test_message_limit_is_counted_after_line_endings_are_normalised(check, form_app):
    limit = form_app.config["MESSAGE_MAX_CHARS"]
    # Browsers send a textarea's line breaks as "\r\n". This is 7,498 characters as
    # posted but 4,999 once each line break is one "\n", so it is within the limit.
    message = "a" + "\r\na" * ((limit - 1) // 2)
    assert len(message) > limit
    assert check(**valid_answers(message=message))[1] == {}
    assert check(**valid_answers(message="x" * limit))[1] == {}


def test_message_limit_comes_from_config(make_form_app):
    app = make_form_app(MESSAGE_MAX_CHARS=10)
    with app.test_request_context(method="POST"):
        form = EnquiryForm(formdata=MultiDict(valid_answers(message="x" * 11)))
        assert not form.validate()
        assert form.errors["message"] == ["Your message must be 10 characters or fewer"]


def test_answers_are_cleaned_not_rejected(check):
    form, errors = check(**valid_answers(
        name="  Sam\x00\x1b[31m \u202eTom ",
        phone="\t07700 900 982\r\n",
        message="  Line one\r\nLine two\rLine three\x07\tend\u2028next\x00  ",
    ))
    assert errors == {}
    answers = form.answers()
    assert answers["name"] == "Sam[31m \u202eTom"  # format characters such as RTL marks stay
    assert answers["phone"] == "07700 900 982"
    assert answers["message"] == "Line one\nLine two\nLine three\tend\nnext"


def test_honeypot_is_not_an_answer(check):
    form, errors = check(**valid_answers(website="http://spam.example"))
    assert errors == {}
    assert form.honeypot_filled()
    assert "website" not in form.answers()
    form, _ = check(**valid_answers(website="   "))
    assert not form.honeypot_filled()


def test_error_list_follows_the_page_order(check):
    form, _ = check(name="x" * 101, contact_method="phone", phone="", message="")
    assert [field for field, _ in form.error_list()] == ["name", "phone", "message"]


@given(st.text())
def test_clean_text_leaves_no_controls_but_newlines_and_tabs(text):
    cleaned = clean_text(text)
    assert "\r" not in cleaned
    assert all(ch in "\n\t" or unicodedata.category(ch) != "Cc" for ch in cleaned)
    assert clean_text(cleaned) == cleaned


@given(st.text())
def test_clean_line_is_one_line_without_controls(text):
    cleaned = clean_line(text)
    assert not any(unicodedata.category(ch) == "Cc" for ch in cleaned)
    assert "\u2028" not in cleaned and "\u2029" not in cleaned
    assert clean_line(cleaned) == cleaned


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Zl", "Zp", "Cs"))))
def test_clean_text_keeps_ordinary_text(text):
    assert clean_text(text) == text.strip()


@pytest.mark.parametrize("field, typed", [
    ("email", "sian@exam\x00ple.org"),
    ("email", "sian\t@example.org"),
    ("email", "sian@example.org\x0b.evil.example"),
    ("email", "sian@example.org\u200b"),
    ("phone", "07700\x00 900 982"),
    ("phone", "07700 900\n982"),
    ("phone", "07700 900 982\u202e"),
])
def test_a_hidden_character_in_an_address_or_number_is_refused_not_removed(check, field, typed):
    from formsvc.forms import MSG_EMAIL_HIDDEN, MSG_PHONE_HIDDEN

    form, errors = check(**valid_answers(contact_method=field, **{field: typed}))
    assert errors[field] == [MSG_EMAIL_HIDDEN if field == "email" else MSG_PHONE_HIDDEN]
    assert form[field].data == typed.strip(" \t\r\n")  # kept as typed, to be put right


def test_wtforms_own_words_follow_the_page_language_and_are_read_once(form_app):
    """Our checks word every problem themselves; WTForms' own words (none shown today) still follow the
    page's language, from a catalogue read once rather than on every request (forms._wtforms_words)."""
    from formsvc.i18n import ENVIRON_KEY

    seen = []
    for code in ("en", "cy", "cy"):
        with form_app.test_request_context("/enquiry/", environ_overrides={ENVIRON_KEY: code}):
            seen.append(EnquiryForm(formdata=None).meta.get_translations(None))
    assert seen[0].gettext("This field is required.") == "This field is required."
    assert seen[1].gettext("This field is required.") == "Rhaid cwblhau'r maes hwn."
    assert seen[1] is seen[2]
