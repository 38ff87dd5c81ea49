"""The hub's messages in tests: store an enquiry as the web half does, read back what the hub gets."""
from __future__ import annotations

import email
import email.policy
import time

from formsvc.accept import accept
from formsvc.message import AcceptedEnquiry, build_body
from formsvc.outbox import get_outbox
from formsvc.transport import SMTPTransport
from formsvc.worker import DeliverySettings, deliver_due

#: The addresses the tests' outboxes and apps use.
MAIL_FROM = "Hub form <enquiries@rj.example>"
HUB_INBOX = "hub@rj.example"


def store(outbox, answers: dict[str, str], *, submission_id: str, quarantined: bool = False,
          reason: str | None = None, seal=None, **addresses) -> str:
    """``outbox`` gets the enquiry exactly as the form would hand it over; returns the reference."""
    options = {"seal": seal} if seal is not None else {}
    return accept(outbox, answers, submission_id=submission_id, mail_from=addresses.get("mail_from", MAIL_FROM),
                  hub_inbox=addresses.get("hub_inbox", HUB_INBOX), quarantined=quarantined, reason=reason,
                  **options)


def parse(data: bytes) -> email.message.EmailMessage:
    # Stored in wire form (CRLF); a mail client reads it with its own line ends.
    return email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=email.policy.default)


def hub_text(data: bytes) -> str:
    """The text of a stored (unsealed) message, as the hub reads it."""
    return parse(data).get_body(("plain",)).get_content()


def text_for(stored, answers: dict[str, str]) -> str:
    """What ``hub_text`` must be for a stored enquiry (from ``Outbox.claim``) made from ``answers``."""
    return build_body(AcceptedEnquiry(reference=stored.reference, message_id=stored.message_id,
                              created_at=stored.created_at, answers=answers))


# -- where a reply goes: every address header and every reply link, read two ways ----------

#: Headers a mail client takes an address from (to reply, to follow up, to notify).
ADDRESS_HEADERS = {"from", "sender", "reply-to", "to", "cc", "bcc", "mail-reply-to", "mail-followup-to",
                   "disposition-notification-to", "return-receipt-to", "errors-to", "return-path"}


def raw_fields(data: bytes) -> list[tuple[str, str]]:
    """A message's header fields as written: (lower-case name, value with its folds, CRLF kept)."""
    head = data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("ascii")
    fields: list[tuple[str, str]] = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t"):
            name, value = fields[-1]
            fields[-1] = (name, value + "\r\n" + line)
        else:
            name, _, value = line.partition(":")
            fields.append((name.strip().lower(), value))
    return fields


def header_addresses(data: bytes) -> dict[str, list[str]]:
    """name -> the addresses in that header, the same by both parsers or AssertionError.

    The email package's default policy, and ``email.utils.getaddresses`` on the raw value, both
    as folded and unfolded (RFC 5322 3.2.2): a name that folds into address syntax (CPython
    gh-80222) shows up as a different or extra address in one of them.
    """
    parsed = parse(data)
    found: dict[str, list[str]] = {}
    for name, value in raw_fields(data):
        if name not in ADDRESS_HEADERS:
            continue
        assert name not in found, f"{name} twice"
        by_policy = [a.addr_spec for a in parsed[name].addresses]
        for raw in (value, value.replace("\r\n", "")):
            assert [a for _, a in email.utils.getaddresses([raw])] == by_policy, (name, raw, by_policy)
        found[name] = by_policy
    return found


def reply_links(body: str) -> list[str]:
    """The links the hub's email gives to write to the person: lines of their own that start
    ``mailto:`` (nothing the person typed starts a line: answers follow their label, and the
    message's lines follow "| ")."""
    return [line for line in body.split("\n") if line.startswith("mailto:")]


def link_address(link: str, reference: str) -> str:
    """The one address a reply link writes to, read by two parsers, which must agree; its only
    field must be the subject, the reference alone."""
    import re
    from urllib.parse import parse_qs, unquote, urlsplit

    # Only unreserved characters, "@" and percent-escapes: nothing a client could read another way.
    assert re.fullmatch(r"mailto:[A-Za-z0-9._~%@-]+\?subject=[A-Za-z0-9._~%-]+", link), link
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.fragment) == ("mailto", "", ""), link
    assert parse_qs(parts.query, strict_parsing=True) == {"subject": [reference]}, link
    address = unquote(parts.path)
    assert [a for _, a in email.utils.getaddresses([address])] == [address], link
    assert [a.addr_spec for a in email.policy.default.header_factory("To", address).addresses] == [address], link
    return address


def check_where_replies_go(data: bytes, *, mail_from: str, hub_inbox: str, reference: str,
                           typed: str | None, body: bool = True) -> None:
    """Reply-To is exactly the hub's inbox, no header holds another address, and the body's one
    reply link (``typed`` None: none) is to exactly the address typed. ``body=False`` for the
    outside of a sealed message."""
    addresses = header_addresses(data)
    hub = [a.addr_spec for a in email.policy.default.header_factory("To", hub_inbox).addresses]
    ours = [a.addr_spec for a in email.policy.default.header_factory("From", mail_from).addresses]
    assert addresses == {"from": ours, "to": hub, "reply-to": hub}, addresses
    if body:
        links = reply_links(parse(data).get_body(("plain",)).get_content().replace("\r\n", "\n"))
        assert [link_address(link, reference) for link in links] == ([] if typed is None else [typed])


def their_message(body: str) -> str:
    """The person's message in the hub's email text, as they typed it: the block's lines, each
    without the prefix the email adds (which every one of them must have; a line without it
    ends the block, and must be the email's own closing lines)."""
    from formsvc.message import MESSAGE_PREFIX

    lines = body.replace("\r\n", "\n").split("\n")
    [start] = [i for i, line in enumerate(lines) if line.startswith("THEIR MESSAGE")]
    assert lines[start + 2] == "-" * 32, lines[start:start + 3]
    block = []
    for line in lines[start + 3:]:
        if not line.startswith(MESSAGE_PREFIX):
            break
        block.append(line[len(MESSAGE_PREFIX):])
    end = start + 3 + len(block)
    assert lines[end:end + 2] == ["-" * 32, "End of message"], lines[end:end + 2]
    return "\n".join(block)


# -- an accepted enquiry and its message, for the message and transport tests ----------

MAIL_FROM = "Restorative justice hub <enquiries@rj.example>"
HUB = "hub@hub.example"


def enquiry(answers: dict, reference: str = "RJ-7K2M9QDX"):
    """An enquiry as accept() makes it, from ``answers``."""
    from formsvc.message import AcceptedEnquiry

    return AcceptedEnquiry(reference=reference, message_id="<123.456@rj.example>", created_at=time.time(),
                           answers=answers)


def wire(msg):
    """What the outbox keeps for ``msg`` (its bytes), and the envelope the worker sends it in."""
    from formsvc.message import message_bytes
    from formsvc.transport import Envelope

    return message_bytes(msg), Envelope.of(MAIL_FROM, HUB)


def delivered_body(app, smtp_server) -> str:
    """The hub's email for the one enquiry waiting in app's outbox: sent by the delivery worker over
    real SMTP to ``smtp_server`` and read back as the hub's mail client shows it."""
    transport = SMTPTransport(smtp_server.host, smtp_server.port, security="none", timeout=10)
    settings = DeliverySettings(mail_from="enquiries@rj.example", hub_inbox="hub@hub.example")
    assert deliver_due(get_outbox(app), transport, settings)["delivered"] == 1
    [message] = smtp_server.inbox.messages
    return message.get_content().replace("\r\n", "\n")
