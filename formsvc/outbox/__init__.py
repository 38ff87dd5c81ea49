"""The outbox: the durable queue between the web form and the mail worker.

The web half builds (and seals) the hub's whole message before storing it; an
outbox stores only those bytes and the delivery facts. The reference and the
Message-ID are drawn by the caller (they are inside the message), so ``add`` can
refuse a reference that is taken (``ReferenceTaken``) but never mints one.

Two backends with the same methods and meaning, tested once by
tests/test_outbox_contract.py:

- ``sqlite.SQLiteOutbox`` (the default, ``FORMSVC_DATABASE_URL`` empty): a file in
  ``DATA_DIR``, for ``make run`` and one server with a lasting disk;
- ``postgresql.PostgreSQLOutbox`` (``FORMSVC_DATABASE_URL=postgresql://...``): one
  queue shared by several web instances and workers on different machines.

The statements that read the same on both live once in ``sql.SQLOutbox``, which
both backends extend. This module is the interface both code to; it imports neither backend until
``init_app`` chooses one (psycopg is only loaded when PostgreSQL is used).
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Callable, Protocol

from ..config import default

#: Crockford's base32: no I, L, O or U, so a reference read out over the phone
#: cannot be mistaken (0/O, 1/I/L) and cannot spell most words.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_PREFIX = "RJ-"
REFERENCE_LENGTH = 8  # 32**8 ≈ 10**12 possibilities: not guessable by trying
REFERENCE_RE = re.compile(r"^RJ-[0-9A-HJKMNP-TV-Z]{8}$")

#: Turns a version 1 SQLite row's answers into its message (built and sealed as a new
#: one would be): ``upgrade(answers, reference, message_id, created_at) -> bytes``.
Upgrade = Callable[[dict, str, str, float], bytes]


class OutboxUnavailable(Exception):
    """The outbox could not store or change anything (locked too long, disk full, database unreachable, ...).

    Nothing was written. The web half shows "we could not take your enquiry" with the text kept.
    """


class SchemaError(OutboxUnavailable):
    """The storage cannot be brought to this service's schema (see the message); nothing was changed."""


class ReferenceTaken(Exception):
    """The reference given to ``add`` belongs to another submission: draw a new one and build again.

    Nothing was written.
    """


@dataclass
class StoredMessage:
    """An enquiry as the outbox keeps it: its sealed message and its delivery state (never the answers)."""

    id: int
    reference: str
    message_id: str
    created_at: float
    #: Finished delivery attempts so far (not counting the current one).
    attempts: int
    #: Exactly what is sent (sealed, or plain when sealing is off); never in a repr,
    #: so never in a log by accident.
    message: bytes = field(repr=False)
    #: When it (re-)entered the queue; the worker gives up this long after.
    queued_at: float | None = None


def new_reference() -> str:
    return REFERENCE_PREFIX + "".join(secrets.choice(CROCKFORD) for _ in range(REFERENCE_LENGTH))


def normalise_reference(text: str) -> str:
    """Turn what an operator typed ("rj-7k2m 9qdx", "RJ7K2M9QDX") into the stored form.

    Letters Crockford leaves out are read as the digits they look like.
    """
    body = re.sub(r"[\s-]", "", text.upper())
    if body.startswith("RJ"):
        body = body[2:]
    body = body.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    return REFERENCE_PREFIX + body


def short_error(error: str) -> str:
    """An error description fit for a listing: one short line.

    Errors are descriptions we make ("SMTP 451", "TimeoutError"); still, nothing long
    or multi-line ever lands in a listing.
    """
    return re.sub(r"[\x00-\x1f\x7f]+", " ", str(error)).strip()[:120]


class Outbox(Protocol):
    """What every backend does; each method's meaning is tested once for all backends."""

    def migrate(self) -> None:
        """Create or upgrade the versioned schema (safe when several processes start at once)."""

    def reference_for(self, submission_id: str) -> str | None:
        """The reference already stored for this submission, if any (cheap; before sealing)."""

    def add(self, message: bytes, *, reference: str, message_id: str, submission_id: str,
            quarantined: bool = False, reason: str | None = None) -> str:
        """Durable when it returns. Returns ``reference``, or the earlier reference when
        ``submission_id`` is known (then nothing is stored). Raises ReferenceTaken."""

    def claim(self, now: float | None = None, limit: int = 50,
              lease_seconds: int = default("OUTBOX_LEASE_SECONDS")) -> list[StoredMessage]:
        """Lease up to ``limit`` due enquiries, oldest first; no one else gets them meanwhile."""

    def release(self, ids: list[int]) -> None: ...

    def mark_delivered(self, id: int) -> None:
        """Delivered wins over any later failure report; the message bytes are deleted."""

    def mark_transient_failure(self, id: int, error: str, next_attempt_at: float) -> None: ...

    def mark_permanent_failure(self, id: int, error: str) -> None: ...

    def failed(self) -> list[dict]: ...

    def quarantined(self) -> list[dict]: ...

    def retry(self, reference: str) -> bool: ...

    def purge_quarantine(self, older_than_seconds: float = default("QUARANTINE_RETENTION_SECONDS"),
                         now: float | None = None) -> int: ...

    def stats(self, now: float | None = None) -> dict:
        """backlog, oldest_undelivered_age_seconds, failed, quarantined, delivered."""

    def checkpoint(self) -> None: ...

    def close(self) -> None: ...


def open_outbox(database_url: str, data_dir: str, upgrade: Upgrade | None = None) -> Outbox:
    """The backend ``FORMSVC_DATABASE_URL`` names: empty is the SQLite file in ``data_dir``."""
    if not database_url:
        from pathlib import Path

        from .sqlite import SQLiteOutbox

        return SQLiteOutbox(Path(data_dir) / "outbox.sqlite3", upgrade=upgrade)
    if database_url.startswith(("postgresql://", "postgres://")):
        from .postgresql import PostgreSQLOutbox

        # A PostgreSQL outbox has never held version 1 answers: nothing to upgrade.
        return PostgreSQLOutbox(database_url)
    # Never echo the URL: it may hold a password.
    raise RuntimeError("FORMSVC_DATABASE_URL must be empty (SQLite in FORMSVC_DATA_DIR) or start with postgresql://.")


def init_app(app, upgrade: Upgrade | None = None) -> None:
    app.extensions["outbox"] = open_outbox(app.config["DATABASE_URL"], app.config["DATA_DIR"], upgrade=upgrade)


def get_outbox(app=None) -> Outbox:
    if app is None:
        from flask import current_app

        app = current_app
    return app.extensions["outbox"]
