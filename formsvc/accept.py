"""Accepting an enquiry: build the hub's message, seal it, store it. One way, in memory.

This is the only place answers become a stored message. The outbox never sees the
answers, only the finished bytes (sealed to the hub's key when sealing is on), so
neither the database nor anything that copies it holds the answers themselves.
Knows nothing of Flask requests; ``enquiry.py`` calls it with the valid answers.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from email.message import EmailMessage

from .message import AcceptedEnquiry, build_message, message_bytes, new_message_id
from .outbox import Outbox, OutboxUnavailable, ReferenceTaken, new_reference

#: Turns the hub's message into the bytes to store and send (sealing, or none).
Seal = Callable[[EmailMessage], bytes]

#: A reference clash is about 1 in 10**12; twenty in a row means something is wrong.
_REFERENCE_TRIES = 20


def accept(
    outbox: Outbox,
    answers: dict[str, str],
    *,
    submission_id: str,
    mail_from: str,
    hub_inbox: str,
    seal: Seal = message_bytes,
    quarantined: bool = False,
    reason: str | None = None,
    now: float | None = None,
) -> str:
    """Store the enquiry durably and return its reference (the earlier one for a resubmit).

    Raises ``OutboxUnavailable`` when nothing could be stored.
    """
    known = outbox.reference_for(submission_id)
    if known:
        return known  # a double click: no second message, no second sealing
    created_at = time.time() if now is None else now
    for _ in range(_REFERENCE_TRIES):
        enquiry = AcceptedEnquiry(reference=new_reference(), message_id=new_message_id(mail_from),
                          created_at=created_at, answers=answers)
        data = seal(build_message(enquiry, mail_from=mail_from, hub_inbox=hub_inbox))
        try:
            return outbox.add(data, reference=enquiry.reference, message_id=enquiry.message_id,
                              submission_id=submission_id, quarantined=quarantined, reason=reason)
        except ReferenceTaken:
            continue
    raise OutboxUnavailable("no free reference")


def upgrader(*, mail_from: str, hub_inbox: str, seal: Seal = message_bytes):
    """For the outbox's upgrade of a version 1 file: its waiting answers become messages."""

    def upgrade(answers: dict, reference: str, message_id: str, created_at: float) -> bytes:
        enquiry = AcceptedEnquiry(reference=reference, message_id=message_id, created_at=created_at, answers=answers)
        return seal(build_message(enquiry, mail_from=mail_from, hub_inbox=hub_inbox))

    return upgrade
