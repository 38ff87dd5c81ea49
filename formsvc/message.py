"""The hub's email, built from an accepted enquiry: what the outbox keeps, sealed, and sends unchanged.

The web process builds it when it accepts an enquiry (``formsvc.accept``); the transport
(``formsvc.transport``) later sends its bytes exactly as they are. Knows nothing of Flask
requests. Rules that protect the person who wrote:

* No user text in any header, nor anything built from it. ``Reply-To`` is the hub's own
  inbox, so Reply (which quotes the whole enquiry) comes back to the hub, never to the
  person or to our sender address. The subject is "Restorative justice enquiry " and
  the reference, nothing else.
* For a person who chose email, the body has a ``mailto:`` link to exactly the address
  they typed, with the reference alone as its subject and nothing of the enquiry in it.
* The body starts with how it is safe to contact them, so nobody phones a person
  who said "email only", or leaves a message they said was unsafe. Each answer is
  under the form's own question, worded as on the form (formsvc/questions.py).
* It is in English whatever language the form was in, and says which language that was
  ("Language: Welsh (Cymraeg)"), so the hub can answer in it; the person's words are kept
  exactly as typed.
"""
from __future__ import annotations

import email.policy
import functools
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .i18n import english, in_english, language_names
from .questions import ABOUT_KEYS, BY_KEY, CONTACT_KEYS, LANGUAGE_KEY, NOT_ANSWERED, Question

SUBJECT_PREFIX = "Restorative justice enquiry "

#: One plain address, ASCII only: what the form accepts (forms.py) and what the reply link
#: may carry. No spaces, quotes, commas, brackets, colons or semicolons, so a mail client
#: that reads the link's address as an address list finds this one address and no other.
EMAIL_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
EMAIL_MAX = 254  # the longest address SMTP allows

#: Starts every line of the person's message in the hub's email, so that none of their lines is
#: read as ours or as mail syntax: "-- " would start a signature (Thunderbird greys out the rest),
#: a line starting "From " becomes ">From " in an mbox, one starting ">" shows as a quotation,
#: and a typed "End of message" or "HOW TO CONTACT THEM SAFELY" cannot pass for the email's own.
MESSAGE_PREFIX = "| "

# Characters that could break a header or fake a line or reorder text on screen:
# C0/C1 controls, line/paragraph separators, bidi embeddings, overrides and isolates.
_UNSAFE_INLINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


# Characters that reorder the text around them on screen (bidirectional embeddings,
# overrides, isolates and marks): "\u202e" can make "Do not call" display as something else.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible_bidi(text: str) -> str:
    """Bidirectional controls written out ("[U+202E]"): the hub sees that they were there,
    and the email displays in the order it was typed."""
    return _BIDI.sub(lambda found: f"[U+{ord(found.group()):04X}]", text)
@dataclass(frozen=True)
class AcceptedEnquiry:
    """An enquiry just accepted: what the hub's message is made from (in memory only)."""

    reference: str
    message_id: str
    #: When the person sent it (epoch seconds); the message's Date.
    created_at: float
    answers: dict[str, str] = field(repr=False)  # never in a repr, so never in a log by accident


def new_message_id(mail_from: str) -> str:
    """A Message-ID in our own domain, minted once per enquiry and kept across resends.

    Never the machine's name: make_msgid's default would look it up, slowly, and put
    the host name in every message.
    """
    domain = parseaddr(mail_from or "")[1].rpartition("@")[2]
    return make_msgid(domain=domain or "localhost")


def one_line(value: str | None) -> str:
    """A single-line answer as safe plain text: no line breaks or controls, bidi controls shown.

    Answers other than the message are one line on the form; flattening them here
    means none of them can add a fake line such as "Only contact this person by PHONE."
    """
    return re.sub(r"\s+", " ", _UNSAFE_INLINE.sub(" ", visible_bidi(value or ""))).strip()


def reply_link(answers: dict[str, str], reference: str) -> str | None:
    """``mailto:`` the address they typed, subject the reference: or None if they did not
    choose email, or the address is not one plain address (then staff copy it from the body).

    Nothing but the reference goes in the subject: it shows in the person's inbox and
    notifications, where someone else may see it. No ``body=``: nothing of the enquiry is
    quoted, so the new email holds only what staff write. Everything but letters, digits,
    "-._~" and the "@" is percent-encoded (RFC 6068 asks at least "%/?#[]"; "+" as %2B so
    no client reads it as a space).
    """
    address = answers.get("email") or ""
    if answers.get("contact_method") != "email" or len(address) > EMAIL_MAX or not EMAIL_RE.fullmatch(address):
        return None
    return f"mailto:{quote(address, safe='@')}?subject={quote(reference, safe='')}"


def answer_line(question: Question, answers: dict[str, str]) -> str:
    """One answer as the hub reads it: the form's question, then the answer worded as on the form."""
    if question.choices:
        choice = question.choice(answers.get(question.key))
        if choice is None:
            text = question.not_answered
        else:
            text = english(choice.label) + (f" - {choice.for_the_hub}" if choice.for_the_hub else "")
    else:
        text = one_line(answers.get(question.key)) or question.not_answered
    label = english(question.label)
    return f"{label}{' ' if label.endswith('?') else ': '}{text}"


# The hub works in UK time; UTC alone would be an hour out all summer.
UK_TIME = ZoneInfo("Europe/London")


def uk_time(timestamp: float) -> str:
    """A moment as the hub reads it: "1 December 2026, 21:35 GMT", or BST in summer."""
    when = datetime.fromtimestamp(timestamp, UK_TIME)
    return f"{when.day} {when:%B %Y, %H:%M} {when.tzname()}"


def reply_lines(answers: dict[str, str], reference: str) -> list[str]:
    """How to write to a person who chose email: the link on a line of its own, so a mail
    client finds where it ends; and that Reply is not the way (it comes back to the hub)."""
    link = reply_link(answers, reference)
    if link is None:
        return ["To write to them, copy the address above into a new email. Reply comes back to the hub."]
    return ["To write to them, use this link (a new email to that address only). Reply comes back to the hub.",
            link]


def build_body(enquiry: AcceptedEnquiry) -> str:
    a = enquiry.answers
    method = a.get("contact_method")
    known_method = BY_KEY["contact_method"].choice(method) is not None

    def wanted(key: str) -> bool:
        # Only the way of contact they chose: the other may not be safe to use. If the
        # choice is missing, show everything (the first line says to take care).
        only_for = BY_KEY[key].only_for
        return only_for is None or not known_method or only_for == method

    contact = []
    for key in CONTACT_KEYS:
        if wanted(key):
            contact.append(answer_line(BY_KEY[key], a))
            if key == "email" and method == "email":
                contact += reply_lines(a, enquiry.reference)
    lines = [
        f"Restorative justice enquiry {enquiry.reference}",
        f"Received: {uk_time(enquiry.created_at)}",
        # Stored with the answers (an enquiry stored before there was a choice was in English).
        f"Language: {language_names(a.get(LANGUAGE_KEY))}",
        "",
        "HOW TO CONTACT THEM SAFELY",
        "--------------------------",
        *contact,
        "",
        "ABOUT THEM",
        "----------",
        *(answer_line(BY_KEY[key], a) for key in ABOUT_KEYS),
    ]
    message = visible_bidi(a.get("message") or "")
    lines += [
        "",
        f'THEIR MESSAGE, exactly as typed after the "{MESSAGE_PREFIX}" that starts each line',
        english(BY_KEY["message"].label),
        "--------------------------------",
        # Every kind of line break a client may show ends a line here, so each line it shows has the prefix.
        *([MESSAGE_PREFIX + line for line in message.splitlines()] if message.strip() else [NOT_ANSWERED]),
        "--------------------------------",
        "End of message",
    ]
    return "\n".join(lines) + "\n"


class _HeaderClasses(HeaderRegistry):
    """The email package's header registry, making each header class once.

    The stock registry creates a new class (``type(...)``) for every header it
    parses, which was a third of the cost of building a message. The classes it
    makes hold no state, so one per header name does exactly the same.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._made: dict[str, type] = {}

    def __getitem__(self, name):
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


#: ``email.policy.default`` with the registry above: same parsing, same checks.
POLICY = email.policy.default.clone(header_factory=_HeaderClasses())


@functools.lru_cache(maxsize=32)
def fixed_header(name: str, value: str):
    """A header parsed once (our own addresses, fixed values), with the usual checks."""
    return POLICY.header_store_parse(name, value)[1]


def build_message(enquiry: AcceptedEnquiry, *, mail_from: str, hub_inbox: str) -> EmailMessage:
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = SUBJECT_PREFIX + enquiry.reference
    msg["From"] = fixed_header("From", mail_from)  # our own address: the person's would fail DMARC
    msg["To"] = fixed_header("To", hub_inbox)
    # Date is when the person wrote, so every resend is the same message.
    msg["Date"] = format_datetime(datetime.fromtimestamp(enquiry.created_at, timezone.utc))
    msg["Message-ID"] = enquiry.message_id
    # Reply quotes the whole enquiry: it goes back to the hub's own inbox, whose key staff
    # have, so it stays sealed. Never the person (a header built from what they typed can
    # be made to hold another address: CPython gh-80222) nor our sender's mailbox.
    msg["Reply-To"] = fixed_header("Reply-To", hub_inbox)
    # Ask the hub's mail system not to send out-of-office or other automatic
    # replies: they would only loop back to the hub or to our sender address.
    msg["Auto-Submitted"] = fixed_header("Auto-Submitted", "auto-generated")
    msg["X-Auto-Response-Suppress"] = fixed_header("X-Auto-Response-Suppress", "All")
    # Quoted-printable keeps every character of the message intact across relays
    # that only speak 7-bit; the message is text, never HTML.
    with in_english():  # the hub reads every enquiry in English
        body = build_body(enquiry)
    msg.set_content(body, subtype="plain", charset="utf-8", cte="quoted-printable")
    return msg


def is_international(addresses) -> bool:
    return not all(address.isascii() for address in addresses)


def message_bytes(msg: EmailMessage) -> bytes:
    """The message as it goes on the wire (CRLF line ends), for the outbox to keep.

    Not ``smtplib.send_message``'s writer: it uses mbox "From " quoting, so a line of
    someone's message starting "From what I remember" reached the hub as
    ">From what I remember" (found by tests/test_fuzz.py). ``as_bytes`` does not.
    """
    addresses = [a.addr_spec for name in ("From", "To") for a in msg[name].addresses]
    policy = msg.policy.clone(linesep="\r\n", utf8=is_international(addresses))
    return msg.as_bytes(policy=policy)
