"""The outbox interface after sealing (PLAN.md decision 3), shared by every backend.

The web process builds and seals the hub's whole message before storing it; an
outbox stores only those bytes and the delivery facts. The reference and the
Message-ID are drawn by the caller (they are inside the sealed message), so
``add`` can refuse a reference that is taken (``ReferenceTaken``) but never
mints one itself.

Temporary home: when the integration of issues 13/14 turns ``formsvc/outbox.py``
into the ``formsvc/outbox/`` package, this file becomes its ``__init__`` (or
``base``), and ``OutboxUnavailable`` keeps its one definition.
"""
from __future__ import annotations

from typing import Protocol

# One definition of each: the web half already catches this very class.
from .config import default
from .outbox import (
    REFERENCE_RE,
    Enquiry,
    OutboxUnavailable,
    ReferenceTaken,
    _short_error,
    new_reference,
    normalise_reference,
)

QUARANTINE_RETENTION_SECONDS = default("QUARANTINE_RETENTION_SECONDS")

__all__ = ["QUARANTINE_RETENTION_SECONDS", "REFERENCE_RE", "Enquiry", "Outbox", "OutboxUnavailable",
           "ReferenceTaken", "new_reference", "normalise_reference", "short_error"]

short_error = _short_error


class Outbox(Protocol):
    """What every backend does. Each method's meaning is tested once for all backends
    (tests/test_outbox_contract.py)."""

    def migrate(self) -> None:
        """Create or upgrade the versioned schema (safe when several processes start at once)."""

    def reference_for(self, submission_id: str) -> str | None:
        """The reference already stored for this submission, if any (cheap; before sealing)."""

    def add(self, message: bytes, *, reference: str, message_id: str, submission_id: str,
            quarantined: bool = False, reason: str | None = None) -> str:
        """Durable when it returns. Returns ``reference``, or the earlier reference when
        ``submission_id`` is known (then nothing is stored). Raises ReferenceTaken."""

    def claim(self, now: float | None = None, limit: int = 50, lease_seconds: int = 300) -> list[Enquiry]:
        """Lease up to ``limit`` due enquiries, oldest first; no one else gets them meanwhile."""

    def release(self, ids: list[int]) -> None: ...

    def mark_delivered(self, id: int) -> None:
        """Delivered wins over any later failure report; the message bytes are deleted."""

    def mark_transient_failure(self, id: int, error: str, next_attempt_at: float) -> None: ...

    def mark_permanent_failure(self, id: int, error: str) -> None: ...

    def failed(self) -> list[dict]: ...

    def quarantined(self) -> list[dict]: ...

    def retry(self, reference: str) -> bool: ...

    def purge_quarantine(self, older_than_seconds: float = QUARANTINE_RETENTION_SECONDS,
                         now: float | None = None) -> int: ...

    def stats(self, now: float | None = None) -> dict:
        """backlog, oldest_undelivered_age_seconds, failed, quarantined, delivered."""

    def checkpoint(self) -> None: ...

    def close(self) -> None: ...
