"""The enquiry form: what a victim may send us, cleaned and checked.

The questions themselves (labels, hints, choices) are in questions.py; this module
makes the form's fields from them and says how each answer is checked.
Validation happens here and only here (the page uses ``novalidate``), with the
GOV.UK Design System's error messages. Nothing is dropped or cut short quietly:
an answer that is too long or in the wrong shape gets a message saying so, and
the page keeps what the person typed.

The POST field names ``contact_method``, ``email``, ``phone`` and ``message``
are a contract with other parts of the project; so is :meth:`EnquiryForm.answers`,
the dict handed to ``outbox.add``.
"""
from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from urllib.parse import unquote_to_bytes

from babel import support
from flask import current_app, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.i18n import messages_path
from wtforms.validators import StopValidation, ValidationError

from .bodylimit import BODY_KEY
from .message import EMAIL_MAX, EMAIL_RE  # one plain address, as the hub's reply link carries it
from .questions import ANSWER_KEYS, BY_KEY, QUESTIONS

# The choices for each set of radios: value -> label on the page.
CONTACT_METHODS = BY_KEY["contact_method"].choice_map
RELATIONSHIPS = BY_KEY["relationship"].choice_map

NAME_MAX = 100
PHONE_MAX = 30
CALL_TIMES_MAX = 200
EMAIL_NOTES_MAX = 200
CRIME_REFERENCE_MAX = 50

PHONE_RE = re.compile(r"^[0-9 +()\-]+$")
PHONE_DIGITS = (7, 20)

# The messages, in the language of the page (lazy_gettext: formsvc/translations/).
MSG_CONTACT_METHOD = _l("Select how it is safe for us to contact you")
MSG_EMAIL = _l("Enter an email address in the correct format, like name@example.com")
MSG_PHONE = _l("Enter a telephone number, like 01632 960 001 or 07700 900 982")
MSG_MESSAGE = _l("Enter what you would like to talk about")
MSG_YES_NO = {
    "leave_message": _l("Select yes if it is safe for us to leave a message"),
    "say_who_we_are": _l("Select yes if we can say who we are when we call"),
    "email_say_who_we_are": _l("Select yes if we can say who we are in the sender name and subject line"),
    "email_private": _l("Select yes if you are the only person who can read your emails"),
}
MSG_EMAIL_HIDDEN = _l("Your email address has a hidden character in it, such as a tab or a line break. "
                      "Type it again, like name@example.com")
MSG_PHONE_HIDDEN = _l("Your phone number has a hidden character in it, such as a tab or a line break. "
                      "Type it again, like 07700 900 982")
MSG_RELATIONSHIP = _l("Select yes if it happened to you, or no if you are writing for someone else")
# "%(limit)s" is the longest answer, like 5,000.
MSG_TOO_LONG = {
    "name": _l("Your name must be %(limit)s characters or fewer"),
    "email_notes": _l("What we should know before we write must be %(limit)s characters or fewer"),
    "call_times": _l("Safe times to call must be %(limit)s characters or fewer"),
    "crime_reference": _l("Crime reference number must be %(limit)s characters or fewer"),
    "message": _l("Your message must be %(limit)s characters or fewer"),
}

# Line breaks of every kind, for normalising to "\n".
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")


def _drop_controls(text: str, keep: str = "") -> str:
    """Remove control characters (Unicode category Cc) except those in ``keep``."""
    return "".join(ch for ch in text if ch in keep or unicodedata.category(ch) != "Cc")


def clean_line(value: str | None) -> str:
    """One line of text: line breaks and tabs become spaces, other controls go, ends trimmed."""
    if value is None:
        return ""
    text = _LINE_BREAKS.sub(" ", str(value)).replace("\n", " ").replace("\t", " ")
    return _drop_controls(text).strip()


def clean_text(value: str | None) -> str:
    """Free text: line endings become "\\n", controls other than newline and tab go."""
    if value is None:
        return ""
    text = _LINE_BREAKS.sub("\n", str(value))
    return _drop_controls(text, keep="\n\t").strip()


def clean_contact(value: str | None) -> str:
    """An email address or phone number: only the blank space around it trimmed, as a
    browser does for an email field. Nothing inside is changed: a control character in
    it is refused (no_hidden_characters), never removed, since removing it could turn it
    into someone else's address or number."""
    if value is None:
        return ""
    return str(value).strip(" \t\r\n")


def _hidden(text: str) -> bool:
    """Control or formatting characters (tabs, line breaks, NUL, bidi controls, zero-width
    spaces, line separators): nothing anyone means to be in an address or number."""
    return any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in text)


def no_hidden_characters(message: str):
    def check(form, field):
        if _hidden(field.data):
            raise StopValidation(message)

    return check


def too_long(message, limit: int) -> str:
    return str(message) % {"limit": f"{limit:,}"}


def max_length(limit: int, message):
    def check(form, field):
        if len(field.data) > limit:
            raise StopValidation(too_long(message, limit))

    return check


def one_of(choices: dict[str, str], message: str, required: bool = False):
    def check(form, field):
        if not field.data:
            if required:
                raise StopValidation(message)
            return
        if field.data not in choices:
            raise StopValidation(message)

    return check


def valid_email(form, field):
    if field.data and (len(field.data) > EMAIL_MAX or not EMAIL_RE.fullmatch(field.data)):
        raise ValidationError(MSG_EMAIL)


def valid_phone(form, field):
    if not field.data:
        return
    digits = sum(ch.isdigit() for ch in field.data)
    low, high = PHONE_DIGITS
    if len(field.data) > PHONE_MAX or not PHONE_RE.match(field.data) or not low <= digits <= high:
        raise ValidationError(MSG_PHONE)


def required_for(method: str, message: str):
    """Required when the person chose ``method`` as the safe way to contact them."""

    def check(form, field):
        if form.contact_method.data == method and not field.data:
            raise StopValidation(message)

    return check


def message_length(form, field):
    limit = int(current_app.config["MESSAGE_MAX_CHARS"])
    if len(field.data) > limit:
        raise ValidationError(too_long(MSG_TOO_LONG["message"], limit))


def message_required(form, field):
    if not field.data:
        raise StopValidation(MSG_MESSAGE)


# How each answer is cleaned and checked, by question (questions.py).
CHECKS = {
    "name": [max_length(NAME_MAX, MSG_TOO_LONG["name"])],
    "contact_method": [one_of(CONTACT_METHODS, MSG_CONTACT_METHOD, required=True)],
    "email": [required_for("email", MSG_EMAIL), no_hidden_characters(MSG_EMAIL_HIDDEN), valid_email],
    "email_say_who_we_are": [one_of(BY_KEY["email_say_who_we_are"].choice_map, MSG_YES_NO["email_say_who_we_are"])],
    "email_private": [one_of(BY_KEY["email_private"].choice_map, MSG_YES_NO["email_private"])],
    "email_notes": [max_length(EMAIL_NOTES_MAX, MSG_TOO_LONG["email_notes"])],
    "phone": [required_for("phone", MSG_PHONE), no_hidden_characters(MSG_PHONE_HIDDEN), valid_phone],
    "leave_message": [one_of(BY_KEY["leave_message"].choice_map, MSG_YES_NO["leave_message"])],
    "say_who_we_are": [one_of(BY_KEY["say_who_we_are"].choice_map, MSG_YES_NO["say_who_we_are"])],
    "call_times": [max_length(CALL_TIMES_MAX, MSG_TOO_LONG["call_times"])],
    "crime_reference": [max_length(CRIME_REFERENCE_MAX, MSG_TOO_LONG["crime_reference"])],
    "relationship": [one_of(RELATIONSHIPS, MSG_RELATIONSHIP)],
    "message": [message_required, message_length],
}


class UnreadablePost(Exception):
    """The post's text cannot be read as sent: not a form, or not in a character set we can decode.

    ``kept`` is the form read as plain ASCII when every byte of it is, for a character set we
    do not know: such text is the same in any character set a browser uses, so it can be shown
    back to be checked (never stored as it came). Otherwise None: nothing can be shown back.
    """

    def __init__(self, why: str, kept: MultiDict | None = None):
        super().__init__(why)
        self.kept = kept


# Python codecs that are no character set: "undefined" refuses everything, IDNA and punycode
# turn text into something else ("Abc" is "\x82\x81\x80" in punycode), the escape codecs turn
# a typed "\n" into a line break.
_NOT_CHARSETS = {"undefined", "idna", "punycode", "unicode-escape", "raw-unicode-escape"}


def _charset(name: str) -> str | None:
    """The codec for the character set a post names; None for a name we do not know, a codec
    that is not for text (base64, rot13, ...) or one of the codecs above."""
    try:
        codec = codecs.lookup(name).name
        "".encode(codec)  # LookupError for a codec that is not a text encoding
    except (LookupError, ValueError):  # ValueError: a NUL in the name; UnicodeError from "undefined"
        return None
    return None if codec in _NOT_CHARSETS else codec


def _decode_form(body: bytes, charset: str) -> MultiDict:
    pairs = []
    for piece in body.split(b"&"):
        if not piece:
            continue
        name, _, value = piece.partition(b"=")
        pairs.append(tuple(unquote_to_bytes(part.replace(b"+", b" ")).decode(charset) for part in (name, value)))
    return MultiDict(pairs)


def posted_formdata() -> MultiDict:
    """The posted form, read in the character set it says it is in (UTF-8 if it says none).

    Werkzeug reads every form as UTF-8 and keeps bytes that are not as percent-escapes
    ("caf%E9"), which would be stored and sent to the hub as if typed. Here text in
    another character set is decoded properly, and text that cannot be decoded is
    refused (UnreadablePost), never changed. Raises RequestEntityTooLarge as Flask does.
    """
    if request.mimetype != "application/x-www-form-urlencoded":
        raise UnreadablePost("not a form")
    body = request.environ.get(BODY_KEY)
    if body is None:
        body = request.get_data(cache=True)
    charset = _charset(request.mimetype_params.get("charset") or "utf-8")
    if charset is None:
        try:
            kept = _decode_form(body, "ascii")
        except UnicodeDecodeError:
            kept = None
        raise UnreadablePost("unknown character set", kept)
    try:
        return _decode_form(body, charset)
    except ValueError:  # UnicodeDecodeError, and the other UnicodeErrors some decoders raise
        raise UnreadablePost("character set") from None


@functools.lru_cache(maxsize=None)
def _wtforms_words(locale: str):
    """WTForms' own messages in a language, read once: Flask-WTF reads the catalogue file afresh for
    every request (a file parsed on every post, issue 20's profile), and it never changes while we run."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class EnquiryForm(FlaskForm):
    """The questions' fields (added below, in the page's order), the form token and the honeypot."""

    class Meta:
        # CSRFProtect checks every POST before the view runs and a failure gets its own
        # friendly page (enquiry.csrf_failed), so the form does not check it a second
        # time. The page template renders the csrf_token field itself.
        csrf = False

        def get_translations(self, form):
            return _wtforms_words(str(get_locale()))

    # Signed submission id and the time the form was served (see enquiry.py).
    form_token = HiddenField(filters=[clean_line])
    # The honeypot: hidden from people, tempting to bots. Not validated: a filled-in
    # value quarantines the enquiry instead of rejecting it (see enquiry.py).
    website = StringField(_l("Leave this field empty"), filters=[clean_line])

    def answers(self) -> dict[str, str]:
        """The person's answers for ``outbox.add``: every key, "" when not answered."""
        return {key: self[key].data or "" for key in ANSWER_KEYS}

    def honeypot_filled(self) -> bool:
        return bool(self.website.data)

    def error_list(self) -> list[tuple[str, str]]:
        """(field id, message) for the error summary, in the order of the page."""
        return [(self[key].id, self[key].errors[0]) for key in ANSWER_KEYS if self[key].errors]


def _field(question):
    if question.kind == "textarea":
        return TextAreaField(question.label, filters=[clean_text], validators=CHECKS[question.key])
    # In names and other one-line answers a line break or tab becomes a space; in an
    # address or number nothing is changed (clean_contact).
    cleaned = clean_contact if question.kind in {"email", "tel"} else clean_line
    return StringField(question.label, filters=[cleaned], validators=CHECKS[question.key])


for _question in QUESTIONS:
    # WTForms' form class takes fields added after it is made (FormMeta.__setattr__).
    setattr(EnquiryForm, _question.key, _field(_question))
