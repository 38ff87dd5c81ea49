"""The email to the hub, sent to a real SMTP server over TCP and into a real Maildir."""
from __future__ import annotations

import dataclasses
import email
import email.policy
import mailbox
import ssl
import subprocess
import time
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formsvc.mailer import (
    ConnectError,
    Enquiry,
    Envelope,
    MaildirTransport,
    PermanentDeliveryError,
    SMTPTransport,
    TransientDeliveryError,
    build_body,
    build_message,
    message_bytes,
    transport_from_config,
    uk_time,
)

MAIL_FROM = "Restorative justice hub <enquiries@rj.example>"
HUB = "hub@hub.example"
KEYS = ["name", "contact_method", "email", "email_say_who_we_are", "email_private", "email_notes", "phone",
        "leave_message", "say_who_we_are", "call_times",
        "crime_reference", "relationship", "message"]
# Exactly these headers, whatever the person typed.
OUR_HEADERS = {"subject", "from", "to", "date", "message-id", "auto-submitted", "x-auto-response-suppress",
               "content-type", "content-transfer-encoding", "mime-version"}


def enquiry(answers: dict, reference: str = "RJ-7K2M9QDX") -> Enquiry:
    return Enquiry(reference=reference, message_id="<123.456@rj.example>", created_at=time.time(), answers=answers)


def wire(msg) -> tuple[bytes, Envelope]:
    """What the outbox keeps for ``msg``, and the envelope the worker sends it in."""
    return message_bytes(msg), Envelope.of(MAIL_FROM, HUB)


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
                  "Yes, it happened to me", "I would like to talk about meeting him.\nNot sure yet.\n\nThank you."]:
        assert value in body, value
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
    body = build_body(enquiry(answers(contact_method="phone", leave_message="", say_who_we_are="",
                                      call_times="", crime_reference="", relationship="", name="")))
    assert "Is it safe for us to leave a message on this phone? Not answered - treat as NO" in body
    assert "Can we say who we are when we call? Not answered - treat as NO" in body
    for label in ["When is it safe to call you?", "What should we call you?", "Did the crime happen to you?",
                  "Crime reference number:"]:
        assert f"{label} Not answered" in body


def test_unicode_names_survive_the_trip(smtp_server, answers):
    sent = answers(name="Siân", message="Łukasz and محمد were there.\nZażółć gęślą jaźń.")
    got = send(smtp_server, build_message(enquiry(sent), mail_from=MAIL_FROM, hub_inbox=HUB))
    body = text(got)
    assert "What should we call you? Siân" in body
    assert "Łukasz and محمد were there.\nZażółć gęślą jaźń." in body
    assert got["Reply-To"].addresses[0].display_name == "Siân"


def test_reply_to_only_when_they_chose_email(answers):
    by_email = build_message(enquiry(answers(contact_method="email")), mail_from=MAIL_FROM, hub_inbox=HUB)
    assert by_email["Reply-To"].addresses[0].addr_spec == "sian@example.org"
    assert "Only contact this person by EMAIL" in by_email.get_content()

    # They gave an email address too, but said phone: replying by email is not safe.
    by_phone = build_message(enquiry(answers(contact_method="phone")), mail_from=MAIL_FROM, hub_inbox=HUB)
    assert by_phone["Reply-To"] is None
    assert "sian@example.org" not in by_phone.get_content()


@pytest.mark.parametrize("address", [
    "a@b.example\r\nBcc: evil@x.example", "a@b.example, evil@x.example", "<a@b.example>", "a b@c.example",
    "no-at-sign", "a@b.example\x00", "\u202eelpmaxe.b@a",
])
def test_an_unusable_address_gets_no_reply_to_but_stays_in_the_body(answers, address):
    msg = build_message(enquiry(answers(email=address)), mail_from=MAIL_FROM, hub_inbox=HUB)
    assert msg["Reply-To"] is None
    assert "Only contact this person by EMAIL" in msg.get_content()


def test_international_addresses(answers):
    idn = build_message(enquiry(answers(email="sian@bücher.example")), mail_from=MAIL_FROM, hub_inbox=HUB)
    assert idn["Reply-To"].addresses[0].addr_spec == "sian@xn--bcher-kva.example"
    # A non-ASCII local part needs SMTPUTF8 end to end; staff copy it from the body instead.
    local = build_message(enquiry(answers(email="siân@example.org")), mail_from=MAIL_FROM, hub_inbox=HUB)
    assert local["Reply-To"] is None and "siân@example.org" in local.get_content()


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
       st.sampled_from(["email", "phone", "", "fax"]))
def test_no_answer_ever_reaches_a_header_except_a_valid_reply_to(answers, method):
    answers["contact_method"] = method
    msg = build_message(enquiry(answers), mail_from=MAIL_FROM, hub_inbox=HUB)
    raw = msg.as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert {name.lower() for name in parsed.keys()} <= OUR_HEADERS | {"reply-to"}
    assert parsed["Subject"] == "Restorative justice enquiry RJ-7K2M9QDX"
    header_block = raw.split(b"\n\n", 1)[0]
    assert all(32 <= byte < 127 or byte in b"\t\n" for byte in header_block)
    if parsed["Reply-To"] is not None:
        assert method == "email"
        assert parsed["Reply-To"].addresses[0].addr_spec.lower().startswith(answers["email"].rpartition("@")[0].lower())


def test_maildir_transport_writes_a_message_a_mail_client_can_read(tmp_path, answers):
    with MaildirTransport(tmp_path / "maildir") as transport:
        transport.send(*wire(build_message(enquiry(answers()), mail_from=MAIL_FROM, hub_inbox=HUB)))
    assert len(list((tmp_path / "maildir" / "new").iterdir())) == 1
    box = mailbox.Maildir(tmp_path / "maildir", factory=None, create=False)
    [message] = list(box)
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Restorative justice enquiry RJ-7K2M9QDX"
    assert "What should we call you? Siân Łukasz محمد" in text(parsed)


def test_server_replies_map_to_transient_and_permanent(smtp_server, answers):
    msg = build_message(enquiry(answers()), mail_from=MAIL_FROM, hub_inbox=HUB)
    with SMTPTransport(smtp_server.host, smtp_server.port, security="none", timeout=5) as transport:
        smtp_server.inbox.reply = "451 4.3.0 Try again later, and here is your text back"
        with pytest.raises(TransientDeliveryError) as transient:
            transport.send(*wire(msg))
        assert str(transient.value) == "SMTP 451 4.3.0"
        smtp_server.inbox.reply = "550 5.7.1 Rejected: I would like to talk about meeting him"
        with pytest.raises(PermanentDeliveryError) as permanent:
            transport.send(*wire(msg))
        assert str(permanent.value) == "SMTP 550 5.7.1"  # the server's words are not kept
        smtp_server.inbox.reply = "250 OK"
        transport.send(*wire(msg))  # the same connection is still usable
    assert len(smtp_server.inbox.envelopes) == 1


def test_a_dropped_connection_is_reopened(smtp_server, answers):
    msg = build_message(enquiry(answers()), mail_from=MAIL_FROM, hub_inbox=HUB)
    with SMTPTransport(smtp_server.host, smtp_server.port, security="none", timeout=5) as transport:
        transport.send(*wire(msg))
        transport._smtp.sock.close()  # as if the server had hung up on an idle connection
        transport.send(*wire(msg))
    assert len(smtp_server.inbox.envelopes) == 2


def test_nothing_listening_is_a_connect_error(closed_port):
    transport = SMTPTransport("127.0.0.1", closed_port, security="none", timeout=2)
    with pytest.raises(ConnectError) as error:
        transport.open()
    assert str(error.value) == "ConnectionRefusedError"
    assert isinstance(error.value, TransientDeliveryError)


def test_starttls_against_a_server_without_tls_is_refused_not_downgraded(smtp_server):
    # Our settings say TLS; a server that cannot do it must not get the message in clear.
    transport = SMTPTransport(smtp_server.host, smtp_server.port, security="starttls", timeout=5)
    with pytest.raises(ConnectError):
        transport.open()


def test_transport_from_config(tmp_path):
    maildir = transport_from_config({"SMTP_HOST": "", "DATA_DIR": str(tmp_path)})
    assert isinstance(maildir, MaildirTransport) and maildir.path == tmp_path / "maildir"
    smtp = transport_from_config({"SMTP_HOST": "relay.example", "SMTP_PORT": 465, "SMTP_SECURITY": "ssl",
                                  "SMTP_USERNAME": "u", "SMTP_PASSWORD": "p", "SMTP_TIMEOUT": 7,
                                  "DATA_DIR": str(tmp_path)})
    assert (smtp.host, smtp.port, smtp.security, smtp.username, smtp.timeout) == ("relay.example", 465, "ssl", "u", 7)


# -- TLS is verified ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost: trusted by nobody until we say so."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_certificates_are_verified(certificate, security, start_smtp_server, monkeypatch, answers):
    cert, server_context = certificate
    if security == "ssl":
        server = start_smtp_server(ssl_context=server_context)
    else:
        server = start_smtp_server(tls_context=server_context, require_starttls=True)
    # Unknown issuer: refused before anything is sent.
    with pytest.raises(ConnectError, match="SSLCertVerificationError"):
        SMTPTransport("localhost", server.port, security=security, timeout=5).open()
    # The same certificate, now trusted (OpenSSL reads SSL_CERT_FILE): delivered.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with SMTPTransport("localhost", server.port, security=security, timeout=5) as transport:
        transport.send(*wire(build_message(enquiry(answers()), mail_from=MAIL_FROM, hub_inbox=HUB)))
    assert [e.rcpt_tos for e in server.inbox.envelopes] == [[HUB]]


def test_the_stored_bytes_are_sent_unchanged_in_wire_form(smtp_server, answers):
    data, envelope = wire(build_message(enquiry(answers()), mail_from=MAIL_FROM, hub_inbox=HUB))
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")  # CRLF only, as SMTP wants
    with SMTPTransport(smtp_server.host, smtp_server.port, security="none", timeout=5) as transport:
        transport.send(data, envelope)
    [got] = smtp_server.inbox.envelopes
    assert got.mail_from == "enquiries@rj.example" and got.rcpt_tos == [HUB]
    assert got.original_content.rstrip(b"\r\n") == data.rstrip(b"\r\n")


def test_an_international_hub_address_asks_for_smtputf8():
    assert Envelope.of(MAIL_FROM, "hub@example.org").options == ()
    assert Envelope.of(MAIL_FROM, "höb@example.org").options == ("SMTPUTF8", "BODY=8BITMIME")
