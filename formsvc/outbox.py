"""The outbox: a durable SQLite queue between the web form and the mail worker.

Once ``add`` returns, the enquiry is on disk (WAL + ``synchronous=FULL``) and the
web half may tell the person it has been sent. The worker ``claim``s due enquiries
under a lease, sends them and records the result. Nothing here knows about email
except that a Message-ID is minted once at ``add`` and kept, so a resend after a
crash is recognisably the same message.

Personal data (the ``answers``) lives in one column only and is removed as soon as
it is no longer needed: on delivery (``mark_delivered``) and, for quarantined
suspected spam, after a retention period (``purge_quarantine``, 30 days by
default, run by the worker loop and by ``flask outbox purge-quarantine``).
References, Message-IDs, timestamps, attempt counts and short error descriptions
are kept: they are not personal and let the hub trace an enquiry.

Concurrency: each thread of each process uses its own connection, opened on first
use and kept (opening one costs more than a whole commit: SQLite reads the schema
again), so the object is safe to share between threads and survives gunicorn
forking; a connection inherited across fork() is never used. Writers take SQLite's
write lock up front (``BEGIN IMMEDIATE``) so two workers cannot claim the same row,
and wait up to ``busy_timeout`` seconds for it; past that, or on any other database
failure, the call raises ``OutboxUnavailable``, the transaction is rolled back and the
connection is dropped (the next call opens a fresh one). If the file is replaced or
removed, the next call notices and opens the new one rather than writing into a
deleted file.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import make_msgid, parseaddr
from pathlib import Path

from .config import default

#: Crockford's base32: no I, L, O or U, so a reference read out over the phone
#: cannot be mistaken (0/O, 1/I/L) and cannot spell most words.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_PREFIX = "RJ-"
REFERENCE_LENGTH = 8  # 32**8 ≈ 10**12 possibilities: not guessable by trying
REFERENCE_RE = re.compile(r"^RJ-[0-9A-HJKMNP-TV-Z]{8}$")

#: Connections a forked child inherited: kept referenced so they are never closed
#: (or garbage-collected, which closes them) in the child.
_INHERITED: list = []

SCHEMA = """
CREATE TABLE IF NOT EXISTS enquiries (
    id                INTEGER PRIMARY KEY,
    reference         TEXT NOT NULL UNIQUE,
    submission_id     TEXT NOT NULL UNIQUE,
    message_id        TEXT NOT NULL,
    created_at        REAL NOT NULL,
    -- When it last entered the queue (add, or an operator's retry): the worker's
    -- give-up clock runs from here, not from created_at.
    queued_at         REAL NOT NULL,
    -- JSON of the person's answers; NULL once delivered or purged.
    answers           TEXT,
    quarantined       INTEGER NOT NULL DEFAULT 0,
    quarantine_reason TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   REAL NOT NULL,
    lease_until       REAL,
    delivered_at      REAL,
    failed_at         REAL,
    purged_at         REAL,
    last_error        TEXT
);
-- The worker's query: what is due and still waiting.
CREATE INDEX IF NOT EXISTS enquiries_due ON enquiries (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL AND quarantined = 0;
"""

# Rows that still wait for delivery (the backlog).
WAITING = "delivered_at IS NULL AND failed_at IS NULL AND quarantined = 0"


class OutboxUnavailable(Exception):
    """The outbox could not store or change anything (locked too long, disk full, ...).

    Nothing was written. The web half shows "we could not take your enquiry".
    """


@dataclass
class Enquiry:
    id: int
    reference: str
    message_id: str
    created_at: float
    #: Finished delivery attempts so far (not counting the current one).
    attempts: int
    answers: dict[str, str] = field(repr=False)  # never in a repr, so never in a log by accident
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


def _short_error(error: str) -> str:
    # Errors are descriptions we make ("SMTP 451", "TimeoutError"); still, keep them
    # to one short line so nothing long or multi-line ever lands in a listing.
    return re.sub(r"[\x00-\x1f\x7f]+", " ", str(error)).strip()[:120]


class Outbox:
    def __init__(self, path: str | os.PathLike, *, mail_from: str | None = None, busy_timeout: float = 5.0):
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        domain = parseaddr(mail_from or "")[1].rpartition("@")[2]
        # Our own domain, never the machine's name (make_msgid's default would
        # look it up, slowly, and put the host name in every message).
        self.msgid_domain = domain or "localhost"
        self._ready = False
        self._ready_lock = threading.Lock()
        self._local = threading.local()  # this thread's connection (see _connection)

    # -- connections -------------------------------------------------------------

    def _setup(self) -> None:
        """Create the folder, the file (private to us) and the schema, once per process."""
        with self._ready_lock:
            if self._ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # The file holds victims' words: create it readable by this user only.
            # SQLite gives the -wal and -shm files the same permissions.
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
            conn = self._open()
            try:
                # WAL: readers (health checks, listings) never block the writer.
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(SCHEMA)
            finally:
                conn.close()
            self._ready = True

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: we write BEGIN/COMMIT ourselves, so a transaction is
        # exactly what we say it is.
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        conn.row_factory = sqlite3.Row
        # FULL: a COMMIT has reached the disk before add() returns and we say "sent".
        conn.execute("PRAGMA synchronous=FULL")
        # Overwrite deleted answers with zeros instead of leaving them in free pages.
        conn.execute("PRAGMA secure_delete=ON")
        return conn

    def _file_id(self) -> tuple[int, int]:
        info = os.stat(self.path)
        return info.st_dev, info.st_ino

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection: opened once, checked cheaply on every use."""
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and local.pid != os.getpid():
            # Inherited across fork(): never use it, and never close it here either
            # (closing could checkpoint or remove the parent's WAL). Keep it alive.
            _INHERITED.append(conn)
            conn = local.conn = None
        if conn is not None and local.file_id != self._file_id():
            self._drop()  # the file was replaced: don't write into the old one
            conn = None
        if conn is None:
            conn = self._open()
            local.conn, local.pid, local.file_id = conn, os.getpid(), self._file_id()
            local.busy_timeout = self.busy_timeout
        elif local.busy_timeout != self.busy_timeout:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            local.busy_timeout = self.busy_timeout
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    @contextmanager
    def _connect(self):
        try:
            self._setup()
            conn = self._connection()
        except (sqlite3.Error, OSError) as exc:
            self._drop()
            raise OutboxUnavailable(type(exc).__name__) from exc
        try:
            yield conn
        except sqlite3.Error as exc:
            # Whatever state it is in (disk full, I/O error), start afresh next time.
            self._drop()
            raise OutboxUnavailable(type(exc).__name__) from exc

    def close(self) -> None:
        """Close this thread's connection (it is opened again when needed)."""
        self._drop()

    @contextmanager
    def _write(self, synced: bool = True):
        """A write transaction: all of it is committed, or none of it.

        ``synced`` (the default): the commit is on the disk when this returns. The
        worker's bookkeeping (claim, delivered, failed) passes False: its commit
        survives the process being killed (it is in the WAL file), but after a power
        cut it may be undone, and the enquiry is then sent again with the same
        Message-ID, which delivery allows anyway. That saves a disk flush per message.
        """
        with self._connect() as conn:
            if not synced:
                conn.execute("PRAGMA synchronous=NORMAL")
            try:
                # IMMEDIATE takes the write lock now (waiting up to busy_timeout), so
                # the reads inside see exactly what we then change: no two claimers
                # get the same row, no two adds the same submission_id.
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            finally:
                if not synced:
                    conn.execute("PRAGMA synchronous=FULL")

    # -- the web half --------------------------------------------------------------

    def add(
        self,
        answers: dict[str, str],
        *,
        submission_id: str,
        quarantined: bool = False,
        reason: str | None = None,
    ) -> str:
        """Store an enquiry durably and return its reference.

        The same ``submission_id`` (a double click, a resubmit after Back) returns
        the first reference and stores nothing new.
        """
        if not submission_id:
            raise ValueError("submission_id is required")
        payload = json.dumps({str(k): str(v) for k, v in answers.items()}, ensure_ascii=False)
        now = time.time()
        with self._write() as conn:
            row = conn.execute(
                "SELECT reference FROM enquiries WHERE submission_id = ?", (submission_id,)
            ).fetchone()
            if row:
                return row["reference"]
            message_id = make_msgid(domain=self.msgid_domain)
            for _ in range(20):
                reference = new_reference()
                try:
                    conn.execute(
                        "INSERT INTO enquiries (reference, submission_id, message_id, created_at,"
                        " queued_at, answers, quarantined, quarantine_reason, next_attempt_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (reference, submission_id, message_id, now, now, payload,
                         int(quarantined), _short_error(reason) if reason else None, now),
                    )
                    return reference
                except sqlite3.IntegrityError:
                    continue  # the reference is taken (about 1 in 10**12): draw another
            raise OutboxUnavailable("no free reference")

    # -- the worker ------------------------------------------------------------------

    def claim(self, now: float | None = None, limit: int = 50,
              lease_seconds: int = default("OUTBOX_LEASE_SECONDS")) -> list[Enquiry]:
        """Lease up to ``limit`` due enquiries, oldest first.

        A leased enquiry is not handed to anyone else until the lease runs out; if
        the worker dies, it comes back then, with the same Message-ID.
        """
        now = time.time() if now is None else now
        with self._write(synced=False) as conn:
            rows = conn.execute(
                f"SELECT * FROM enquiries WHERE {WAITING} AND next_attempt_at <= ?"
                " AND (lease_until IS NULL OR lease_until <= ?) AND answers IS NOT NULL"
                " ORDER BY created_at, id LIMIT ?",
                (now, now, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE enquiries SET lease_until = ? WHERE id = ?",
                [(now + lease_seconds, row["id"]) for row in rows],
            )
        return [
            Enquiry(
                id=row["id"],
                reference=row["reference"],
                message_id=row["message_id"],
                created_at=row["created_at"],
                attempts=row["attempts"],
                answers=json.loads(row["answers"]),
                queued_at=row["queued_at"],
            )
            for row in rows
        ]

    def release(self, ids: list[int]) -> None:
        """Give back claimed enquiries that were not tried (the worker is stopping)."""
        with self._write(synced=False) as conn:
            conn.executemany(
                "UPDATE enquiries SET lease_until = NULL WHERE id = ? AND delivered_at IS NULL",
                [(i,) for i in ids],
            )

    def mark_delivered(self, id: int) -> None:
        """Record delivery and delete the answers: the hub's inbox has them now."""
        with self._write(synced=False) as conn:
            conn.execute(
                "UPDATE enquiries SET delivered_at = ?, answers = NULL, lease_until = NULL,"
                " failed_at = NULL, attempts = attempts + 1 WHERE id = ? AND delivered_at IS NULL",
                (time.time(), id),
            )

    def mark_transient_failure(self, id: int, error: str, next_attempt_at: float) -> None:
        """Try again at ``next_attempt_at``. ``error`` is a short description, never content."""
        with self._write(synced=False) as conn:
            # "delivered_at IS NULL": a slower twin of this attempt may have
            # delivered it meanwhile; delivered wins.
            conn.execute(
                "UPDATE enquiries SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
                " lease_until = NULL WHERE id = ? AND delivered_at IS NULL",
                (_short_error(error), next_attempt_at, id),
            )

    def mark_permanent_failure(self, id: int, error: str) -> None:
        """Stop trying; keep it (answers included) for an operator to look at and retry."""
        with self._write(synced=False) as conn:
            conn.execute(
                "UPDATE enquiries SET attempts = attempts + 1, last_error = ?, failed_at = ?,"
                " lease_until = NULL WHERE id = ? AND delivered_at IS NULL",
                (_short_error(error), time.time(), id),
            )

    def checkpoint(self) -> None:
        """Fold the WAL back into the database and empty it.

        Delivered answers are zeroed in the database (secure_delete) but older
        copies linger in the WAL file until it is reset; this resets it. Best effort:
        a busy reader just means it happens next time.
        """
        with self._connect() as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- operators ---------------------------------------------------------------------

    def failed(self) -> list[dict]:
        """Enquiries the worker gave up on: nothing personal, for ``flask outbox list``."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT reference, created_at, attempts, last_error FROM enquiries"
                " WHERE failed_at IS NOT NULL AND delivered_at IS NULL ORDER BY created_at"
            ).fetchall()
        return [dict(row) for row in rows]

    def quarantined(self) -> list[dict]:
        """Suspected spam held back: nothing personal. ``purged`` means the answers are gone."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT reference, created_at, attempts, last_error, quarantine_reason AS reason,"
                " answers IS NULL AS purged FROM enquiries"
                " WHERE quarantined = 1 AND delivered_at IS NULL ORDER BY created_at"
            ).fetchall()
        return [{**dict(row), "purged": bool(row["purged"])} for row in rows]

    def retry(self, reference: str) -> bool:
        """Queue a failed enquiry again, or release a quarantined one, for delivery now.

        Returns False when there is no such failed or quarantined enquiry, or when
        its answers were already purged (there is nothing left to send).
        """
        reference = normalise_reference(reference)
        now = time.time()
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE enquiries SET failed_at = NULL, quarantined = 0, attempts = 0,"
                " queued_at = ?, next_attempt_at = ?, lease_until = NULL"
                " WHERE reference = ? AND delivered_at IS NULL AND answers IS NOT NULL"
                " AND (failed_at IS NOT NULL OR quarantined = 1)",
                (now, now, reference),
            )
            return cur.rowcount == 1

    def purge_quarantine(self, older_than_seconds: float = default("QUARANTINE_RETENTION_SECONDS"),
                         now: float | None = None) -> int:
        """Delete the answers of quarantined enquiries older than the given age.

        Data minimisation: suspected spam may still hold a real person's details, so
        it is kept (and counted, and listed) long enough for someone to look, then
        its answers go. The row stays, so the reference can still be traced.
        Returns how many were purged.
        """
        now = time.time() if now is None else now
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE enquiries SET answers = NULL, purged_at = ?"
                " WHERE quarantined = 1 AND answers IS NOT NULL AND created_at < ?",
                (now, now - older_than_seconds),
            )
            return cur.rowcount

    def stats(self, now: float | None = None) -> dict:
        now = time.time() if now is None else now
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT"
                f" SUM({WAITING}) AS backlog,"
                f" MIN(CASE WHEN {WAITING} THEN created_at END) AS oldest,"
                f" SUM(failed_at IS NOT NULL AND delivered_at IS NULL) AS failed,"
                f" SUM(quarantined = 1 AND delivered_at IS NULL) AS quarantined,"
                f" SUM(delivered_at IS NOT NULL) AS delivered"
                f" FROM enquiries"
            ).fetchone()
        oldest = row["oldest"]
        return {
            "backlog": row["backlog"] or 0,
            "oldest_undelivered_age_seconds": None if oldest is None else max(0.0, now - oldest),
            "failed": row["failed"] or 0,
            "quarantined": row["quarantined"] or 0,
            "delivered": row["delivered"] or 0,
        }


def init_app(app) -> None:
    app.extensions["outbox"] = Outbox(
        Path(app.config["DATA_DIR"]) / "outbox.sqlite3",
        mail_from=app.config["MAIL_FROM"],
    )


def get_outbox(app=None) -> Outbox:
    if app is None:
        from flask import current_app

        app = current_app
    return app.extensions["outbox"]
