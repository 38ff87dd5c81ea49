"""The hub's email (formsvc/message.py): every answer, worded as the form asks it, nothing in a header,
replies only to the hub; sent to a real SMTP server over TCP where what arrives matters."""
from __future__ import annotations

import dataclasses
import email
import email.policy
import mailbox
import re
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formsvc.message import EMAIL_RE, build_body, build_message, message_bytes, uk_time
from formsvc.questions import BY_KEY, CONTACT_KEYS
from formsvc.transport import (
    SMTPTransport,
)
from testsupport.hubmail import HUB, MAIL_FROM, check_where_replies_go, enquiry, reply_links, their_message, wire

KEYS = ["name", "contact_method", "email", "email_say_who_we_are", "email_private", "email_notes", "phone",
        "leave_message", "say_who_we_are", "call_times",
        "crime_reference", "relationship", "message"]
# Exactly these headers, whatever the person typed.
OUR_HEADERS = {"subject", "from", "to", "reply-to", "date", "message-id", "auto-submitted",
               "x-auto-response-suppress", "content-type", "content-transfer-encoding", "mime-version"}


def send(server, msg) -> email.message.EmailMessage:
    with SMTPTransport(server.host, server.port, security="none", timeout=5) as transport:
        transport.send(*wire(msg))
    [envelope] = server.inbox.envelopes
    assert envelope.rcpt_tos == [HUB]
    return email.message_from_bytes(envelope.original_content, policy=email.policy.default)


def text(msg) -> str:
    """The body as the hub reads it (SMTP carries every line ending as CRLF)."""
    return msg.get_content().replace("\r\n", "\n")


def test_the_hub_receives_every_answer_over_smtp(smtp_server, answers):
    sent = answers(contact_method="phone", leave_message="no", say_who_we_are="no")
    got = send(smtp_server, build_message(enquiry(sent), mail_from=MAIL_FROM, hub_inbox=HUB))

    assert got["Subject"] == "Restorative justice enquiry RJ-7K2M9QDX"
    assert got["To"] == HUB and got["From"].addresses[0].addr_spec == "enquiries@rj.example"
    assert got["Message-ID"] == "<123.456@rj.example>"
    assert got["Date"].datetime is not None
    assert got.get_content_type() == "text/plain"
    body = text(got)
    for value in ["Siân Łukasz محمد", "07700 900123", "Weekdays after 6pm", "CR/12345/25",
                  "Yes, it happened to me"]:
        assert value in body, value
    assert their_message(body) == "I would like to talk about meeting him.\nNot sure yet.\n\nThank you."
    assert "\r" not in body
    assert "Only contact this person by PHONE" in body
    assert "leave a message on this phone? No - do NOT leave a message" in body
    assert "say who we are when we call? No - do NOT say who we are" in body


def test_safe_contact_answers_come_first(answers):
    body = build_body(enquiry(answers(contact_method="phone")))
    order = [body.index(text) for text in
             ["Only contact this person by PHONE", "Phone number: 07700 900123", "Is it safe for us to leave",
              "Can we say who we are", "When is it safe to call you?", "What should we call you?",
              "Did the crime happen to you?", "Crime reference number", "THEIR MESSAGE"]]
    assert order == sorted(order)


@pytest.mark.parametrize("utc, received", [
    # Winter: UK time is GMT, the same as UTC.
    ("2026-12-01T21:35:00", "1 December 2026, 21:35 GMT"),
    # Summer: BST, an hour ahead, so 20:35 UTC is 21:35 in the hub's office.
    ("2026-07-01T20:35:00", "1 July 2026, 21:35 BST"),
    # The night the clocks go back, 01:30 happens twice; the zone says which.
    ("2026-10-25T00:30:00", "25 October 2026, 01:30 BST"),
    ("2026-10-25T01:30:00", "25 October 2026, 01:30 GMT"),
])
def test_the_hub_reads_when_it_was_received_in_uk_time(answers, utc, received):
    created_at = datetime.fromisoformat(utc).replace(tzinfo=timezone.utc).timestamp()
    assert uk_time(created_at) == received
    body = build_body(dataclasses.replace(enquiry(answers()), created_at=created_at))
    assert f"Received: {received}\n" in body
    assert "UTC" not in body


def test_email_contact_asks_what_phone_contact_asks_and_blank_is_read_as_no(answers):
    """Email has its own safe-contact questions (may we say who we are, is the inbox theirs,
    anything else), sent only when they chose email, and a yes/no left blank reads as NO."""
    blank = build_body(enquiry(answers(contact_method="email", email_say_who_we_are="", email_private="",
                                       email_notes="")))
    assert ("Can we say who we are in the email's sender name and subject line? Not answered - treat as NO: "
            "do not say who we are") in blank
    assert ("Are you the only person who can read emails sent to this address? Not answered - treat as NO: "
            "someone else may read this inbox") in blank
    assert "Is there anything else we should know before we write to you? Not answered" in blank

    said_no = build_body(enquiry(answers(contact_method="email", email_say_who_we_are="no", email_private="no",
                                         email_notes="Only after 8pm. Do not use the word police.")))
    assert "sender name and subject line? No - do NOT say who we are or that we are the police" in said_no
    assert "emails sent to this address? No - someone else may read this inbox" in said_no
    assert "before we write to you? Only after 8pm. Do not use the word police." in said_no
    # Right under the email address, before anything about them.
    order = [said_no.index(text) for text in ["Only contact this person by EMAIL", "Email address:",
                                               "sender name and subject line?", "emails sent to this address?",
                                               "before we write to you?", "What should we call you?"]]
    assert order == sorted(order)

    # They chose phone: the email questions are not sent, as the email address is not.
    by_phone = build_body(enquiry(answers(contact_method="phone", email_say_who_we_are="yes", email_private="yes",
                                          email_notes="Only after 8pm.")))
    assert "sender name and subject line?" not in by_phone and "Only after 8pm." not in by_phone


def test_empty_optional_answers_say_not_answered(answers):
    # The safe-contact questions' exact wording: test_unanswered_safe_contact_questions_read_exactly.
    body = build_body(enquiry(answers(contact_method="phone", leave_message="", say_who_we_are="",
                                      call_times="", crime_reference="", relationship="", name="")))
    for label in ["When is it safe to call you?", "What should we call you?", "Did the crime happen to you?",
                  "Crime reference number:"]:
        assert f"{label} Not answered" in body


# The safe-contact section word for word when questions are not answered: a reversed
# instruction ("treat as NO: leave a message") reads almost the same, so no prefix check will do.
# Written out here, not read from formsvc/questions.py, so that a changed wording fails.
UNANSWERED_CONTACT_LINES = {
    "contact_method": "How is it safe for us to contact you? Not answered. "
                      "Take care before using the email address or phone number below.",
    "email": "Email address: Not answered",
    "email_say_who_we_are": "Can we say who we are in the email's sender name and subject line? "
                            "Not answered - treat as NO: do not say who we are or that we are the police "
                            "in the sender name or subject",
    "email_private": "Are you the only person who can read emails sent to this address? "
                     "Not answered - treat as NO: someone else may read this inbox, write nothing they should not see",
    "email_notes": "Is there anything else we should know before we write to you? Not answered",
    "phone": "Phone number: Not answered",
    "leave_message": "Is it safe for us to leave a message on this phone? "
                     "Not answered - treat as NO: do not leave a message",
    "say_who_we_are": "Can we say who we are when we call? "
                      "Not answered - treat as NO: do not say who we are or where we are calling from",
    "call_times": "When is it safe to call you? Not answered",
}
# Not answered, as the hub's message can meet it: no key at all, empty, or a value the form
# does not offer (a choice that was renamed, a crafted post).
UNANSWERED = pytest.mark.parametrize("unanswered", [None, "", "maybe"], ids=["missing", "empty", "unknown"])


def contact_section(body: str) -> list[str]:
    lines = body.split("\n")
    start = lines.index("HOW TO CONTACT THEM SAFELY") + 2  # after the heading's underline
    return lines[start:lines.index("", start)]


def unanswer(sent: dict, keys, unanswered: str | None) -> dict:
    for key in keys:
        if unanswered is None:
            sent.pop(key)
        else:  # a text answer is "not answered" when empty; only a choice can be unknown
            sent[key] = unanswered if BY_KEY[key].choices else ""
    return sent


def test_every_safe_contact_question_has_its_unanswered_wording_pinned():
    # A new safe-contact question gets its exact "not answered" line above.
    assert tuple(UNANSWERED_CONTACT_LINES) == CONTACT_KEYS


@UNANSWERED
def test_unanswered_safe_contact_questions_read_exactly(answers, unanswered):
    # No way of contact chosen: every line is shown, each saying what it means for the hub.
    sent = unanswer(answers(), CONTACT_KEYS, unanswered)
    assert contact_section(build_body(enquiry(sent))) == list(UNANSWERED_CONTACT_LINES.values())


@UNANSWERED
def test_unanswered_phone_safety_questions_read_as_no(answers, unanswered):
    # The usual case: phone chosen, the two optional safety questions left alone.
    sent = unanswer(answers(contact_method="phone"), ("leave_message", "say_who_we_are"), unanswered)
    assert contact_section(build_body(enquiry(sent))) == [
        "How is it safe for us to contact you? Phone - Only contact this person by PHONE. Do not email them.",
        "Phone number: 07700 900123",
        UNANSWERED_CONTACT_LINES["leave_message"],
        UNANSWERED_CONTACT_LINES["say_who_we_are"],
        "When is it safe to call you? Weekdays after 6pm",
    ]


def test_unicode_names_survive_the_trip(smtp_server, answers):
    sent = answers(name="Siân", message="Łukasz and محمد were there.\nZażółć gęślą jaźń.")
    got = send(smtp_server, build_message(enquiry(sent), mail_from=MAIL_FROM, hub_inbox=HUB))
    body = text(got)
    assert "What should we call you? Siân" in body
    assert their_message(body) == "Łukasz and محمد were there.\nZażółć gęślą jaźń."
    assert got["Reply-To"] == HUB  # never the person's name or address


def test_reply_goes_to_the_hub_and_the_link_to_the_person_who_chose_email(answers):
    by_email = build_message(enquiry(answers(contact_method="email")), mail_from=MAIL_FROM, hub_inbox=HUB)
    assert by_email["Reply-To"] == HUB
    body = by_email.get_content()
    assert "Only contact this person by EMAIL" in body
    # The link under the address: the address alone, the reference alone as subject, nothing quoted.
    assert ("Email address: sian@example.org\n"
            "To write to them, use this link (a new email to that address only). Reply comes back to the hub.\n"
            "mailto:sian@example.org?subject=RJ-7K2M9QDX\n") in body
    check_where_replies_go(message_bytes(by_email), mail_from=MAIL_FROM, hub_inbox=HUB, reference="RJ-7K2M9QDX",
                           typed="sian@example.org")

    # They gave an email address too, but said phone: replying by email is not safe.
    by_phone = build_message(enquiry(answers(contact_method="phone")), mail_from=MAIL_FROM, hub_inbox=HUB)
    assert by_phone["Reply-To"] == HUB
    assert "sian@example.org" not in by_phone.get_content() and "mailto:" not in by_phone.get_content()


@pytest.mark.parametrize("address", [
    "a@b.example\r\nBcc: evil@x.example", "a@b.example, evil@x.example", "<a@b.example>", "a b@c.example",
    "no-at-sign", "a@b.example\x00", "\u202eelpmaxe.b@a", "a@b.example\n", '"a,b"@c.example', "a@[1.2.3.4]",
    "a(x)@b.example", "a@b.example;c@d.example", "x" * 250 + "@b.example",
])
def test_an_unusable_address_gets_no_link_but_stays_in_the_body(answers, address):
    msg = build_message(enquiry(answers(email=address)), mail_from=MAIL_FROM, hub_inbox=HUB)
    assert msg["Reply-To"] == HUB
    body = msg.get_content()
    assert "Only contact this person by EMAIL" in body
    assert "mailto:" not in body
    assert "To write to them, copy the address above into a new email. Reply comes back to the hub." in body


def test_an_address_is_linked_exactly_as_typed_every_character_percent_encoded(answers):
    typed = "O'Neil+rj/x=y?z#1%2&k!$*^_`{|}~@Mail-1.Example.org"
    msg = build_message(enquiry(answers(email=typed)), mail_from=MAIL_FROM, hub_inbox=HUB)
    [link] = reply_links(msg.get_content())
    assert link == ("mailto:O%27Neil%2Brj%2Fx%3Dy%3Fz%231%252%26k%21%24%2A%5E_%60%7B%7C%7D~@Mail-1.Example.org"
                    "?subject=RJ-7K2M9QDX")
    check_where_replies_go(message_bytes(msg), mail_from=MAIL_FROM, hub_inbox=HUB, reference="RJ-7K2M9QDX",
                           typed=typed)


def test_international_addresses_are_in_the_body_without_a_link(answers):
    # Not one plain ASCII address (the form refuses them): staff copy it from the body.
    for address in ["sian@bücher.example", "siân@example.org"]:
        msg = build_message(enquiry(answers(email=address)), mail_from=MAIL_FROM, hub_inbox=HUB)
        assert msg["Reply-To"] == HUB and address in msg.get_content() and "mailto:" not in msg.get_content()


# What outside testing found: Python 3.11 drops the quotes around a display name when it folds
# an address header (CPython gh-80222), so a long enough name became address syntax.
FOLD = "a" * 45 + " <attacker@evil.example> (x" + "b" * 20
CRAFTED_NAMES = [
    FOLD,
    "Smith, John <attacker@evil.example>, " + "c" * 60,
    "x" * 30 + " (comment <attacker@evil.example>) " + "y" * 40,
    '"' + "q" * 40 + '" <attacker@evil.example> "' + "r" * 30,
    "=?utf-8?q?attacker=40evil.example?= <attacker@evil.example> " + "d" * 40,
    "=?utf-8?b?" + "YXR0YWNrZXJAZXZpbC5leGFtcGxl" + "?= " + "e" * 60,
    "=?utf-8?q?=0D=0ABcc:_attacker@evil.example?=",
    "Siân Łukasz محمد " * 4 + "<attacker@evil.example>",
    "\u00e9" * 30 + ", attacker@evil.example, " + "\u00e9" * 30,
    "a" * 100,
    "attacker@evil.example\r\nReply-To: attacker@evil.example",
    "a" * 44 + "\\\" <attacker@evil.example>",
    "group: attacker@evil.example; " + "g" * 60,
]


@pytest.mark.parametrize("name", CRAFTED_NAMES)
@pytest.mark.parametrize("typed", ["victim@example.org", "victim+rj@example.org", "o'neil/x=y?z#1@mail.example.org"])
def test_no_name_can_redirect_a_reply(answers, name, typed):
    msg = build_message(enquiry(answers(name=name, email=typed)), mail_from=MAIL_FROM, hub_inbox=HUB)
    raw = message_bytes(msg)
    check_where_replies_go(raw, mail_from=MAIL_FROM, hub_inbox=HUB, reference="RJ-7K2M9QDX", typed=typed)
    # Nothing of the name in any header, however it is written.
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"attacker" not in head and b"evil" not in head and b"=?" not in head
    body = msg.get_content()
    assert body.count("mailto:") == 1
    for other in ["Restorative justice hub <hub@hub.example>", "hub@hub.example, second@hub.example"]:
        check_where_replies_go(message_bytes(build_message(enquiry(answers(name=name, email=typed)),
                                                           mail_from=MAIL_FROM, hub_inbox=other)),
                               mail_from=MAIL_FROM, hub_inbox=other, reference="RJ-7K2M9QDX", typed=typed)


def test_crlf_in_any_answer_cannot_add_a_header(smtp_server, answers):
    evil = "x\r\nBcc: evil@attacker.example\r\nX-Injected: yes\r\n\r\nbody"
    sent = {key: evil for key in KEYS} | {"contact_method": "email", "email": "a@b.example" + evil}
    got = send(smtp_server, build_message(enquiry(sent), mail_from=MAIL_FROM, hub_inbox=HUB))
    assert {name.lower() for name in got.keys()} == OUR_HEADERS
    assert smtp_server.inbox.envelopes[0].rcpt_tos == [HUB]
    # Single-line answers are flattened, so they cannot fake a line in the body either.
    assert "\nBcc:" not in build_body(enquiry(sent)).split("THEIR MESSAGE")[0]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({key: st.text() for key in KEYS}),
       st.sampled_from(["email", "phone", "", "fax"]),
       st.one_of(st.text(), st.sampled_from(CRAFTED_NAMES), st.lists(st.sampled_from(
           ["a" * 40, " ", ",", "<", ">", "(", ")", '"', "\\", ":", ";", "@", "=?utf-8?q?", "?=", "é", "\r\n",
            "attacker@evil.example"]), max_size=12).map("".join)),
       st.one_of(st.emails().map(str), st.text()))
def test_no_answer_ever_reaches_a_header_and_replies_go_only_to_the_hub(answers, method, name, typed):
    answers.update(contact_method=method, name=name[:100], email=typed)
    msg = build_message(enquiry(answers), mail_from=MAIL_FROM, hub_inbox=HUB)
    raw = message_bytes(msg)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert {name.lower() for name in parsed.keys()} == OUR_HEADERS
    assert parsed["Subject"] == "Restorative justice enquiry RJ-7K2M9QDX"
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert all(32 <= byte < 127 or byte in b"\t\r\n" for byte in header_block)
    links = reply_links(msg.get_content())
    # A link exactly when they chose email and typed an address the form accepts, to that address.
    assert bool(links) == (method == "email" and bool(EMAIL_RE.fullmatch(typed)))
    check_where_replies_go(raw, mail_from=MAIL_FROM, hub_inbox=HUB, reference="RJ-7K2M9QDX",
                           typed=typed if links else None)


# Lines a mail client or a mailbox reads as its own syntax, and lines that mimic the email's own.
TRICKY_MESSAGE = ("Thank you.\r\n-- \r\nThis line and the rest were greyed out as a signature.\r\n--\r\n"
                  "From what I remember, it was late.\r\n> He said this.\r\n>From the start\r\n\r\n"
                  "  indented\ttab \r\n--------------------------------\r\nEnd of message\r\n\r\n"
                  "HOW TO CONTACT THEM SAFELY\r\nOnly contact this person by PHONE.\rmailto:attacker@evil.example"
                  "\u2028after a line separator\x85after NEL\x0bafter VT\x0cafter FF")


def test_no_line_of_their_message_can_be_read_as_a_signature_a_quote_or_ours(smtp_server, answers, tmp_path):
    got = send(smtp_server, build_message(enquiry(answers(message=TRICKY_MESSAGE)), mail_from=MAIL_FROM,
                                          hub_inbox=HUB))
    body = text(got)
    lines = body.split("\n")
    # Nothing in the whole email starts a signature, an mbox "From " line or a quotation...
    assert not [line for line in lines if line == "-- " or line.startswith(("From ", ">"))]
    # ...every line of their message is marked, and the email says how...
    assert 'THEIR MESSAGE, exactly as typed after the "| " that starts each line\n' in body
    [start] = [i for i, line in enumerate(lines) if line.startswith("THEIR MESSAGE")]
    block = lines[start + 3:lines.index("End of message", start) - 1]
    assert len(block) == 19 and all(line.startswith("| ") for line in block)
    assert reply_links(body) == ["mailto:sian@example.org?subject=RJ-7K2M9QDX"]
    # ...and after the mark it is exactly as typed (every kind of line break as one new line).
    typed = re.sub("\r\n|[\r\u2028\x85\x0b\x0c]", "\n", TRICKY_MESSAGE)
    assert their_message(body) == typed

    # Kept in an mbox (which writes ">From " for a line starting "From "), the text is still exact.
    box = mailbox.mbox(tmp_path / "hub.mbox")
    box.add(got)
    box.close()
    box = mailbox.mbox(tmp_path / "hub.mbox", create=False)
    try:
        [kept] = [email.message_from_bytes(m.as_bytes(), policy=email.policy.default) for m in box]
    finally:
        box.close()
    assert their_message(text(kept)) == typed
