"""The outbox on SQLite: a durable queue in one file, between the web form and the mail worker.

Once ``add`` returns, the enquiry is on disk (WAL + ``synchronous=FULL``) and the
web half may tell the person it has been sent. The worker ``claim``s due enquiries
under a lease, sends them and records the result. Nothing here knows about email:
the web half stores the hub's finished message (sealed to the hub's key when
sealing is on) as bytes, with the reference and Message-ID it was built with, so a
resend after a crash is byte for byte the same message. The statements it shares with
the PostgreSQL outbox are in ``sql.py``; here are the file, its connections, the schema,
``add`` and ``claim``.

Personal data (the ``message``) lives in one column only and is removed as soon as
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
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from ..config import default
from . import OutboxUnavailable, ReferenceTaken, SchemaError, StoredMessage, Upgrade
from .sql import SQLOutbox, enquiry

#: Connections a forked child inherited: kept referenced so they are never closed
#: (or garbage-collected, which closes them) in the child.
_INHERITED: list = []

#: The schema's version, kept in SQLite's ``user_version``. 1 stored the answers as
#: JSON (``answers``); 2 stores the finished message (``message``).
SCHEMA_VERSION = 2

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
    -- The message exactly as it will be sent (NULL once delivered or purged).
    message           BLOB,
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


class SQLiteOutbox(SQLOutbox):
    """Connections, schema, ``add`` and ``claim`` here; the rest is ``SQLOutbox``'s."""

    PARAM = "?"
    #: Rows that still wait for delivery (the backlog): word for word the ``enquiries_due``
    #: index's condition, or SQLite's planner does not use that index.
    WAITING = "delivered_at IS NULL AND failed_at IS NULL AND quarantined = 0"

    def __init__(self, path: str | os.PathLike, *, busy_timeout: float = 5.0, upgrade: Upgrade | None = None):
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.upgrade = upgrade
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
                self._use_wal(conn)
                self._migrate(conn)
            finally:
                conn.close()
            self._ready = True

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Put the file in WAL mode, so readers (health checks, listings) never block the writer.

        Switching a new file to WAL needs its lock while other connections may be
        creating it too (several workers' first requests at once). SQLite then
        answers "locked" at once rather than wait (it would deadlock otherwise), so
        this waits here instead, up to ``busy_timeout`` as every other write does.
        """
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                    raise
            time.sleep(0.005)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Bring the file to SCHEMA_VERSION, in one transaction (all of it or none)."""
        conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see it done
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            columns = {row[1] for row in conn.execute("PRAGMA table_info(enquiries)")}
            if version < 2 and "answers" in columns:
                self._upgrade_from_answers(conn)
            elif version > SCHEMA_VERSION:
                raise SchemaError(f"{self.path} is schema {version}, newer than this service ({SCHEMA_VERSION}).")
            # Not executescript(): it commits first, outside our transaction.
            for statement in SCHEMA.split(";"):  # (no ";" inside the schema's comments)
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _upgrade_from_answers(self, conn: sqlite3.Connection) -> None:
        """Version 1 kept the answers; build each waiting one's message, then drop the column.

        Nothing waiting is lost: without an ``upgrade`` function, a file that still
        holds answers is refused rather than emptied.
        """
        rows = conn.execute(
            "SELECT id, reference, message_id, created_at, answers FROM enquiries WHERE answers IS NOT NULL"
        ).fetchall()
        if rows and self.upgrade is None:
            raise SchemaError(f"{self.path} holds {len(rows)} enquiries in the old form and no way to upgrade them.")
        conn.execute("ALTER TABLE enquiries ADD COLUMN message BLOB")
        for row in rows:
            message = self.upgrade(json.loads(row["answers"]), row["reference"], row["message_id"], row["created_at"])
            conn.execute("UPDATE enquiries SET message = ?, answers = NULL WHERE id = ?", (message, row["id"]))
        conn.execute("DROP INDEX IF EXISTS enquiries_due")
        conn.execute("ALTER TABLE enquiries DROP COLUMN answers")

    def migrate(self) -> None:
        """Create or upgrade the schema now (otherwise the first use does it)."""
        try:
            self._setup()
        except (sqlite3.Error, OSError) as exc:
            raise OutboxUnavailable(type(exc).__name__) from exc

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

    #: How SQLOutbox reads: this thread's connection, failures as OutboxUnavailable.
    _read = _connect

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
        message: bytes,
        *,
        reference: str,
        message_id: str,
        submission_id: str,
        quarantined: bool = False,
        reason: str | None = None,
    ) -> str:
        """Store a finished message durably and return its reference.

        The same ``submission_id`` (a double click, a resubmit after Back) returns
        the first reference and stores nothing new. A ``reference`` another
        enquiry already has raises ``ReferenceTaken`` (about 1 in 10**12): the
        message names its reference, so the caller builds it again with a new one.
        """
        if not submission_id:
            raise ValueError("submission_id is required")
        if not isinstance(message, bytes) or not message:
            raise ValueError("message must be the non-empty bytes to send")
        with self._write() as conn:
            # Under BEGIN IMMEDIATE's lock: no one adds between these looks and the insert.
            if earlier := self._stored_reference(conn, submission_id):
                return earlier
            if conn.execute("SELECT 1 FROM enquiries WHERE reference = ?", (reference,)).fetchone():
                raise ReferenceTaken(reference)
            self._insert(conn, message, reference=reference, message_id=message_id, submission_id=submission_id,
                         quarantined=quarantined, reason=reason)
            return reference

    # -- the worker ------------------------------------------------------------------

    def claim(self, now: float | None = None, limit: int = 50,
              lease_seconds: int = default("OUTBOX_LEASE_SECONDS")) -> list[StoredMessage]:
        """Lease up to ``limit`` due enquiries, oldest first.

        A leased enquiry is not handed to anyone else until the lease runs out; if
        the worker dies, it comes back then, with the same Message-ID.
        """
        now = time.time() if now is None else now
        with self._write(synced=False) as conn:
            rows = conn.execute(
                f"SELECT * FROM enquiries WHERE {self.WAITING} AND next_attempt_at <= ?"
                " AND (lease_until IS NULL OR lease_until <= ?) AND message IS NOT NULL"
                " ORDER BY created_at, id LIMIT ?",
                (now, now, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE enquiries SET lease_until = ? WHERE id = ?",
                [(now + lease_seconds, row["id"]) for row in rows],
            )
        return [enquiry(row) for row in rows]

    def checkpoint(self) -> None:
        """Fold the WAL back into the database and empty it.

        Delivered messages are zeroed in the database (secure_delete) but older
        copies linger in the WAL file until it is reset; this resets it. Best effort:
        a busy reader just means it happens next time.
        """
        with self._connect() as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
