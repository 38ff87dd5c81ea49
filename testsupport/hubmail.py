"""The hub's messages in tests: store an enquiry as the web half does, read back what the hub gets."""
from __future__ import annotations

import email
import email.policy

from formsvc.accept import accept
from formsvc.mailer import Enquiry, build_body

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
    return build_body(Enquiry(reference=stored.reference, message_id=stored.message_id,
                              created_at=stored.created_at, answers=answers))
