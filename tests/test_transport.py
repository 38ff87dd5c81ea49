"""Sending stored messages (formsvc/transport.py): to a real SMTP server over TCP, with and without TLS,
and into a real Maildir; server replies mapped to retry or give up; the bytes sent unchanged."""
from __future__ import annotations

import email
import email.policy
import mailbox
import ssl
import subprocess

import pytest

from formsvc.message import build_message
from formsvc.transport import (
    ConnectError,
    Envelope,
    MaildirTransport,
    PermanentDeliveryError,
    SMTPTransport,
    TransientDeliveryError,
    transport_from_config,
)
from testsupport.hubmail import HUB, MAIL_FROM, enquiry, wire


def text(msg) -> str:
    """The body as the hub reads it (SMTP carries every line ending as CRLF)."""
    return msg.get_content().replace("\r\n", "\n")


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
