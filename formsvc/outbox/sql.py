"""What the SQL outboxes share: every statement that reads the same on SQLite and PostgreSQL.

``SQLOutbox`` holds the logic once; ``sqlite.SQLiteOutbox`` and
``postgresql.PostgreSQLOutbox`` keep only what truly differs: opening and keeping
connections, mapping their errors to ``OutboxUnavailable``, the schema and its
upgrades, and the two statements whose correctness is engine-specific (``add``'s
idempotence and ``claim``'s leasing).

A backend gives two things:

- ``PARAM``, its placeholder (``?`` or ``%s``), and ``WAITING``, its spelling of
  "still waits for delivery" (SQLite's must read as its partial index does, or the
  index is not used);
- ``_read()`` and ``_write(synced=True)``, context managers yielding a connection
  whose ``execute(sql, params)`` returns a cursor (``fetchone``, ``fetchall``,
  ``rowcount``) with rows read by column name. ``_write`` is one transaction, all of
  it or none; ``synced=False`` lets the commit skip waiting for the disk (the
  worker's bookkeeping, see each backend). Any database failure inside either is
  ``OutboxUnavailable``.

In the shared statements a boolean is written ``quarantined`` or ``FALSE``: PostgreSQL's
boolean column and SQLite's 0/1 integer both read them the same.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import AbstractContextManager

from ..config import default
from . import StoredMessage, normalise_reference, short_error

#: What a claim hands out, in the order ``StoredMessage`` takes it.
CLAIMED_COLUMNS = ("id", "reference", "message_id", "created_at", "attempts", "message", "queued_at")

#: Ids per statement in ``release``: far below SQLite's 32,766 placeholders and PostgreSQL's 65,535.
RELEASE_CHUNK = 500

#: Rows that are being held back as suspected spam (and not delivered after all).
HELD = "quarantined AND delivered_at IS NULL"
#: Rows the worker gave up on.
GAVE_UP = "failed_at IS NOT NULL AND delivered_at IS NULL"


def enquiry(row: Mapping) -> StoredMessage:
    """A claimed row as the worker gets it (the message as bytes, whatever the driver gave)."""
    return StoredMessage(id=row["id"], reference=row["reference"], message_id=row["message_id"],
                   created_at=row["created_at"], attempts=row["attempts"], message=bytes(row["message"]),
                   queued_at=row["queued_at"])


class SQLOutbox:
    """The outbox's methods that are the same SQL on every backend (see the module's note)."""

    PARAM: str
    WAITING: str

    def _read(self) -> AbstractContextManager:
        raise NotImplementedError

    def _write(self, synced: bool = True) -> AbstractContextManager:
        raise NotImplementedError

    # -- the web half ------------------------------------------------------------------

    def reference_for(self, submission_id: str) -> str | None:
        """The reference already stored for this submission, if any (a double click)."""
        with self._read() as conn:
            return self._stored_reference(conn, submission_id)

    def _stored_reference(self, conn, submission_id: str) -> str | None:
        row = conn.execute(f"SELECT reference FROM enquiries WHERE submission_id = {self.PARAM}",
                           (submission_id,)).fetchone()
        return row["reference"] if row else None

    def _insert(self, conn, message: bytes, *, reference: str, message_id: str, submission_id: str,
                quarantined: bool, reason: str | None, suffix: str = ""):
        """Insert a new enquiry, due now; ``suffix`` ends the statement (a backend's ON CONFLICT)."""
        now = time.time()
        values = ", ".join([self.PARAM] * 9)
        return conn.execute(
            "INSERT INTO enquiries (reference, submission_id, message_id, created_at, queued_at,"
            f" message, quarantined, quarantine_reason, next_attempt_at) VALUES ({values}){suffix}",
            (reference, submission_id, message_id, now, now, bytes(message), bool(quarantined),
             short_error(reason) if reason else None, now),
        )

    # -- the worker ----------------------------------------------------------------------

    def release(self, ids: list[int]) -> None:
        """Give back claimed enquiries that were not tried (the worker is stopping)."""
        if not ids:
            return
        ids = list(ids)
        with self._write(synced=False) as conn:
            # A statement per RELEASE_CHUNK ids: the rest of a batch is one, and no list
            # can pass either engine's limit on placeholders.
            for start in range(0, len(ids), RELEASE_CHUNK):
                chunk = ids[start:start + RELEASE_CHUNK]
                in_ids = ", ".join([self.PARAM] * len(chunk))
                conn.execute(f"UPDATE enquiries SET lease_until = NULL WHERE id IN ({in_ids})"
                             " AND delivered_at IS NULL", chunk)

    def mark_delivered(self, id: int) -> None:
        """Record delivery and delete the message: the hub's inbox has it now."""
        p = self.PARAM
        with self._write(synced=False) as conn:
            conn.execute(
                f"UPDATE enquiries SET delivered_at = {p}, message = NULL, lease_until = NULL, failed_at = NULL,"
                f" attempts = attempts + 1 WHERE id = {p} AND delivered_at IS NULL",
                (time.time(), id),
            )

    def mark_transient_failure(self, id: int, error: str, next_attempt_at: float) -> None:
        """Try again at ``next_attempt_at``. ``error`` is a short description, never content."""
        self._record_failure(id, error, "next_attempt_at", next_attempt_at)

    def mark_permanent_failure(self, id: int, error: str) -> None:
        """Stop trying; keep it (message included) for an operator to look at and retry."""
        self._record_failure(id, error, "failed_at", time.time())

    def _record_failure(self, id: int, error: str, column: str, value: float) -> None:
        """Count the attempt, note its error, end the lease and set ``column`` (one of ours, never input)."""
        p = self.PARAM
        with self._write(synced=False) as conn:
            # "delivered_at IS NULL": a slower twin of this attempt may have delivered
            # it meanwhile; delivered wins.
            conn.execute(
                f"UPDATE enquiries SET attempts = attempts + 1, last_error = {p}, {column} = {p},"
                f" lease_until = NULL WHERE id = {p} AND delivered_at IS NULL",
                (short_error(error), value, id),
            )

    # -- operators -------------------------------------------------------------------------

    def failed(self) -> list[dict]:
        """Enquiries the worker gave up on: nothing personal, for ``flask outbox list``."""
        return self._listing(GAVE_UP)

    def quarantined(self) -> list[dict]:
        """Suspected spam held back: nothing personal. ``purged`` means the message is gone."""
        rows = self._listing(HELD, ", quarantine_reason AS reason, message IS NULL AS purged")
        # SQLite answers 0/1 for a comparison; PostgreSQL a boolean.
        return [{**row, "purged": bool(row["purged"])} for row in rows]

    def _listing(self, where: str, more_columns: str = "") -> list[dict]:
        """An operator's listing, oldest first: the trace of each enquiry, never its message."""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT reference, created_at, attempts, last_error{more_columns} FROM enquiries"
                f" WHERE {where} ORDER BY created_at, id"
            ).fetchall()
        return [dict(row) for row in rows]

    def retry(self, reference: str) -> bool:
        """Queue a failed enquiry again, or release a quarantined one, for delivery now.

        False when there is no such failed or quarantined enquiry, or its message was
        already purged (there is nothing left to send).
        """
        reference = normalise_reference(reference)
        now = time.time()
        p = self.PARAM
        with self._write() as conn:
            cur = conn.execute(
                f"UPDATE enquiries SET failed_at = NULL, quarantined = FALSE, attempts = 0,"
                f" queued_at = {p}, next_attempt_at = {p}, lease_until = NULL"
                f" WHERE reference = {p} AND delivered_at IS NULL AND message IS NOT NULL"
                f" AND (failed_at IS NOT NULL OR quarantined)",
                (now, now, reference),
            )
            return cur.rowcount == 1

    def purge_quarantine(self, older_than_seconds: float = default("QUARANTINE_RETENTION_SECONDS"),
                         now: float | None = None) -> int:
        """Delete the message of quarantined enquiries older than the given age.

        Data minimisation: suspected spam may still hold a real person's details, so
        it is kept (and counted, and listed) long enough for someone to look, then
        its message goes. The row stays, so the reference can still be traced.
        Returns how many were purged.
        """
        now = time.time() if now is None else now
        p = self.PARAM
        with self._write() as conn:
            cur = conn.execute(
                f"UPDATE enquiries SET message = NULL, purged_at = {p}"
                f" WHERE quarantined AND message IS NOT NULL AND created_at < {p}",
                (now, now - older_than_seconds),
            )
            return cur.rowcount

    def stats(self, now: float | None = None) -> dict:
        """backlog, oldest_undelivered_age_seconds, failed, quarantined, delivered."""
        now = time.time() if now is None else now
        with self._read() as conn:
            # COUNT(CASE ...) rather than PostgreSQL's FILTER or SQLite's SUM(condition):
            # both engines read it, and it is 0 (not NULL) on an empty table.
            row = conn.execute(
                f"SELECT count(CASE WHEN {self.WAITING} THEN 1 END) AS backlog,"
                f" min(CASE WHEN {self.WAITING} THEN created_at END) AS oldest,"
                f" count(CASE WHEN {GAVE_UP} THEN 1 END) AS failed,"
                f" count(CASE WHEN {HELD} THEN 1 END) AS quarantined,"
                f" count(CASE WHEN delivered_at IS NOT NULL THEN 1 END) AS delivered"
                f" FROM enquiries"
            ).fetchone()
        oldest = row["oldest"]
        return {
            "backlog": row["backlog"],
            "oldest_undelivered_age_seconds": None if oldest is None else max(0.0, now - oldest),
            "failed": row["failed"],
            "quarantined": row["quarantined"],
            "delivered": row["delivered"],
        }
