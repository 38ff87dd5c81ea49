"""The outbox on PostgreSQL: one queue shared by several web instances and workers.

Same meaning as the SQLite outbox (``formsvc/outbox/sqlite.py``), method for method, with
the same storage (formsvc/outbox/__init__.py): the sealed message bytes (``bytea``), the
reference and Message-ID given by the caller, and the delivery facts. What both say in the
same SQL is in ``formsvc/outbox/sql.py``; here are the pool, the schema, ``add`` and ``claim``.

Why psycopg 3 and its pool rather than SQLAlchemy Core: what makes each backend
correct is engine-specific (here ``FOR UPDATE SKIP LOCKED``, ``ON CONFLICT``,
advisory locks, per-transaction ``synchronous_commit``; in SQLite ``BEGIN
IMMEDIATE``, WAL, ``secure_delete``, fork care), so one code path through Core
would still branch on the engine at every method, and add a large dependency to
hide twenty short statements. psycopg_pool gives what we need around them: a
bounded pool, a checkout timeout, a health check on checkout, reconnection.

- **Durable**: ``add`` returns after COMMIT, which with PostgreSQL's default
  ``synchronous_commit=on`` is on the server's disk (and on a synchronous replica
  where one is configured). The worker's bookkeeping (claim, delivered, failed)
  commits with ``synchronous_commit=off``: a server crash may undo the last few
  hundred milliseconds of it, and the enquiry is then sent again with the same
  Message-ID, which at-least-once delivery allows anyway (as the SQLite outbox's
  ``synced=False``).
- **Several workers**: ``claim`` picks due rows with ``FOR UPDATE SKIP LOCKED`` and
  leases them (``lease_until``) in the same statement: two claimers never get the
  same row, a dead worker's rows come back when the lease runs out.
- **Idempotent across instances**: ``submission_id`` is UNIQUE and ``add`` inserts
  ``ON CONFLICT (submission_id) DO NOTHING``; two instances receiving the same
  double click store one enquiry and both answer with its reference.
- **Short waits**: a connection is checked out for at most ``pool_timeout``
  seconds of waiting, each statement runs at most ``statement_timeout``, opening a
  connection gives up after ``connect_timeout``; a session left idle in a
  transaction is ended by the server. Every database or connection failure is
  ``OutboxUnavailable`` and the transaction is rolled back: nothing half-written.
  (If the connection is lost during COMMIT itself the outcome is unknown; the
  person's resubmission carries the same submission_id, so it is stored once.)
  The pool checks a connection before handing it out and reconnects when the
  server is back.
- **Schema**: created and upgraded by the service itself (``migrate``, also run on
  first use), versioned in ``schema_version``, under a transaction-level advisory
  lock so several processes starting at once upgrade it once.
- **Clock**: times are the calling machine's ``time.time()`` (epoch seconds), as in
  the SQLite outbox, so tests and the worker can pass ``now``; machines must keep
  NTP time (leases are minutes; skew is at most seconds).
- **Personal data**: the message is in one column, set to NULL on delivery and, for
  quarantined suspected spam, after the retention period. PostgreSQL has no
  ``secure_delete``: the old row version stays in the table file until vacuum
  reuses its space (and in the WAL until it is recycled). The table is vacuumed
  eagerly for that reason; the message is sealed for the hub unless
  HUB_ENCRYPTION=none, and the database's disk should be encrypted at rest (every
  managed PostgreSQL does this).
- **URL**: passed to libpq untouched (``sslmode``, ``sslrootcert``, ``target_session_attrs``
  ... work as libpq documents them); we only add the timeouts and TCP keepalives
  the URL does not set itself.
- **Processes**: a pool belongs to the process that opened it. After ``fork()`` the
  child opens its own and never touches the parent's (closing it would end the
  parent's sessions on the shared sockets).
"""
from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from ..config import default
from . import OutboxUnavailable, ReferenceTaken, SchemaError, StoredMessage
from .sql import CLAIMED_COLUMNS, SQLOutbox, enquiry

#: Seconds to wait for a connection from the pool (and so, when the server is down,
#: before a submission gets the "could not take your enquiry" page).
POOL_TIMEOUT = 3.0
#: Seconds libpq waits for a new connection to be set up (a server that accepts but never answers).
CONNECT_TIMEOUT = 3
#: Seconds any one statement may run (a lock held elsewhere, a slow disk) before it is cancelled.
STATEMENT_TIMEOUT = 5.0
#: Seconds ``migrate`` may wait for another process's upgrade and run its own.
MIGRATE_TIMEOUT = 60.0
#: Connections per process: gunicorn's sync workers and the delivery loop use one at a time.
POOL_MAX_SIZE = 4

#: Pools inherited across fork(): kept referenced so the child never closes (or
#: garbage-collects, which closes) the parent's connections.
_INHERITED: list = []

#: pg_advisory_xact_lock key for schema upgrades (any constant shared by all our processes).
MIGRATE_LOCK = 0x6F7574626F78  # "outbox"

# Rows that still wait for delivery (the backlog).
WAITING = "delivered_at IS NULL AND failed_at IS NULL AND NOT quarantined"

#: Schema versions in order; each is applied once, in one transaction, under the lock.
MIGRATIONS: list[tuple[int, str]] = [
    (1, f"""
CREATE TABLE enquiries (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference         text NOT NULL UNIQUE,
    submission_id     text NOT NULL UNIQUE,
    message_id        text NOT NULL,
    -- Epoch seconds of the machine that wrote them (see the module's note on the clock).
    created_at        double precision NOT NULL,
    -- When it last entered the queue (add, or an operator's retry): the worker's
    -- give-up clock runs from here, not from created_at.
    queued_at         double precision NOT NULL,
    -- The sealed message, exactly as it is sent; NULL once delivered or purged.
    message           bytea,
    quarantined       boolean NOT NULL DEFAULT false,
    quarantine_reason text,
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   double precision NOT NULL,
    lease_until       double precision,
    delivered_at      double precision,
    failed_at         double precision,
    purged_at         double precision,
    last_error        text
);
-- The worker's query: what still waits, oldest first.
CREATE INDEX enquiries_waiting ON enquiries (created_at, id) WHERE {WAITING};
-- Delivered messages leave dead row versions holding their bytes: have autovacuum
-- reclaim them after a few dozen changes rather than after 20% of the table.
ALTER TABLE enquiries SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 50,
                          toast.autovacuum_vacuum_scale_factor = 0, toast.autovacuum_vacuum_threshold = 50);
"""),
]
LATEST_VERSION = MIGRATIONS[-1][0]


def _unavailable(exc: BaseException) -> OutboxUnavailable:
    # The class name only ("OperationalError", "PoolTimeout", "QueryCanceled"): a
    # server's message may quote a value, and this text reaches logs.
    return OutboxUnavailable(type(exc).__name__)


class PostgreSQLOutbox(SQLOutbox):
    """Connections, schema, ``add`` and ``claim`` here; the rest is ``SQLOutbox``'s."""

    PARAM = "%s"
    WAITING = WAITING  # as in the index enquiries_waiting (MIGRATIONS)

    def __init__(self, url: str, *, pool_timeout: float = POOL_TIMEOUT, connect_timeout: int = CONNECT_TIMEOUT,
                 statement_timeout: float = STATEMENT_TIMEOUT, pool_max_size: int = POOL_MAX_SIZE,
                 migrate_timeout: float = MIGRATE_TIMEOUT, application_name: str = "formsvc"):
        if not url:
            raise ValueError("a PostgreSQL URL is required")
        self.url = url
        self.pool_timeout = pool_timeout
        self.statement_timeout = statement_timeout
        self.pool_max_size = pool_max_size
        self.migrate_timeout = migrate_timeout
        given = conninfo_to_dict(url)  # raises ProgrammingError on a malformed URL: a setup mistake
        # Only what the URL leaves unset: an operator's own choice wins.
        defaults = {
            "connect_timeout": connect_timeout,
            "application_name": application_name,
            # Notice a server (or the network to it) gone silent within ~15 s, not hours.
            "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
            "tcp_user_timeout": 15000,
        }
        self._kwargs = {k: v for k, v in defaults.items() if k not in given}
        self._pool: ConnectionPool | None = None
        self._pool_pid: int | None = None
        self._lock = threading.Lock()
        self._schema_ready = False

    # -- connections ---------------------------------------------------------------

    def _configure(self, conn: psycopg.Connection) -> None:
        """Run on each new connection: the server-side limits on how long we hold anything."""
        ms = int(self.statement_timeout * 1000)
        conn.execute(f"SET statement_timeout = {ms}")
        # A process that stops mid-transaction (paused, stuck) must not hold row locks for long.
        conn.execute(f"SET idle_in_transaction_session_timeout = {max(ms * 2, 10000)}")

    def _get_pool(self) -> ConnectionPool:
        pid = os.getpid()
        if self._pool is not None and self._pool_pid == pid:
            return self._pool
        with self._lock:
            if self._pool is not None and self._pool_pid != pid:
                _INHERITED.append(self._pool)  # the parent's: never close it here
                self._pool = None
                self._schema_ready = False
            if self._pool is None:
                pool = ConnectionPool(
                    self.url, kwargs={**self._kwargs, "autocommit": True}, open=False,
                    min_size=1, max_size=self.pool_max_size, timeout=self.pool_timeout,
                    # A connection the server or network dropped while idle in the pool
                    # is found on checkout and replaced, not handed to a request.
                    configure=self._configure, check=ConnectionPool.check_connection,
                    # Give up a background reconnection quickly: the next request starts a
                    # fresh one, so the pool is back within seconds of the server, rather
                    # than after a backoff that grew during a long outage.
                    reconnect_timeout=max(self.pool_timeout, 2.0), name="formsvc-outbox",
                )
                pool.open(wait=False)
                self._pool, self._pool_pid = pool, pid
            return self._pool

    @contextmanager
    def _connection(self, *, synced: bool = True, timeout: float | None = None, schema: bool = True):
        """A pooled connection. Any database failure is OutboxUnavailable, nothing half-done.

        By default each statement is its own transaction (autocommit), committed
        durably: every method but ``migrate`` and the worker's bookkeeping is one
        statement, and a statement alone saves the BEGIN and COMMIT round trips.
        ``synced=False`` (the worker's bookkeeping) or a ``timeout`` of its own wraps
        the block in one transaction with those settings (``SET LOCAL``).
        """
        try:
            if schema:
                self._ensure_schema()
            with self._get_pool().connection() as conn:
                conn.row_factory = dict_row
                if synced and timeout is None:
                    yield conn
                    return
                with conn.transaction():  # commits on success, rolls back on any exception
                    if not synced:
                        conn.execute("SET LOCAL synchronous_commit = off")
                    if timeout is not None:
                        conn.execute(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
                    yield conn
        except psycopg.Error as exc:  # PoolTimeout is one too
            raise _unavailable(exc) from exc

    # How SQLOutbox reads and writes. A write that is one statement needs no transaction
    # of its own (autocommit, durable); the worker's unsynced bookkeeping gets one.
    def _read(self):
        return self._connection()

    def _write(self, synced: bool = True):
        return self._connection(synced=synced)

    def close(self) -> None:
        """Close this process's pool (another is opened when needed)."""
        with self._lock:
            pool, self._pool = self._pool, None
            if pool is not None and self._pool_pid == os.getpid():
                pool.close()

    def checkpoint(self) -> None:
        """Nothing to do: there is no WAL file of ours to fold back (SQLite's concern)."""

    # -- schema ----------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        """Once per process: a cheap look at the version; upgrade only if it is behind."""
        if self._schema_ready:
            return
        with self._connection(schema=False) as conn:
            present = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL AS p").fetchone()["p"]
            version = None
            if present:
                version = conn.execute("SELECT max(version) AS v FROM schema_version").fetchone()["v"]
        if version != LATEST_VERSION:  # missing, behind (upgrade) or ahead (migrate refuses)
            self.migrate()
        self._schema_ready = True

    def migrate(self) -> None:
        """Create or upgrade the schema to LATEST_VERSION, once, whoever else is trying.

        The whole upgrade is one transaction (PostgreSQL's DDL is transactional)
        holding a transaction-level advisory lock: a second process waits, then sees
        the new version and does nothing; a process that dies mid-upgrade leaves the
        old schema and releases the lock with its session.
        """
        with self._connection(schema=False, timeout=self.migrate_timeout) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                         " version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
            current = conn.execute("SELECT coalesce(max(version), 0) AS v FROM schema_version").fetchone()["v"]
            if current > LATEST_VERSION:
                raise SchemaError(f"the database is schema {current}, newer than this service ({LATEST_VERSION}).")
            for version, statements in MIGRATIONS:
                if version > current:
                    conn.execute(statements)
                    conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
        self._schema_ready = True

    # -- the web half ------------------------------------------------------------------

    def add(self, message: bytes, *, reference: str, message_id: str, submission_id: str,
            quarantined: bool = False, reason: str | None = None) -> str:
        """Store a sealed message durably; return its reference.

        The same ``submission_id`` (a double click, a resubmit after Back, on this
        instance or another) returns the first reference and stores nothing new.
        A ``reference`` that another submission has raises ReferenceTaken.
        """
        if not submission_id:
            raise ValueError("submission_id is required")
        if not isinstance(message, (bytes, bytearray, memoryview)):
            raise TypeError("message must be bytes")
        try:
            with self._connection() as conn:  # autocommit: the INSERT is committed when it returns
                # ON CONFLICT on submission_id only: a taken reference still raises
                # (UniqueViolation on enquiries_reference_key), below.
                row = self._insert(conn, message, reference=reference, message_id=message_id,
                                   submission_id=submission_id, quarantined=quarantined, reason=reason,
                                   suffix=" ON CONFLICT (submission_id) DO NOTHING RETURNING reference").fetchone()
                if row is not None:
                    return row["reference"]
                # Known submission (perhaps committed a moment ago by another instance:
                # this statement sees it, READ COMMITTED).
                if earlier := self._stored_reference(conn, submission_id):
                    return earlier
                raise OutboxUnavailable("submission vanished")  # rows are never deleted; this would be a bug
        except OutboxUnavailable as exc:
            cause = exc.__cause__
            if isinstance(cause, errors.UniqueViolation) and cause.diag.constraint_name == "enquiries_reference_key":
                raise ReferenceTaken(reference) from None
            raise

    # -- the worker ----------------------------------------------------------------------

    def claim(self, now: float | None = None, limit: int = 50,
              lease_seconds: int = default("OUTBOX_LEASE_SECONDS")) -> list[StoredMessage]:
        """Lease up to ``limit`` due enquiries, oldest first.

        Rows another claimer is leasing at this moment are skipped, not waited for
        (SKIP LOCKED); rows it has leased are excluded by ``lease_until``. If the
        worker dies, they come back when the lease runs out, with the same Message-ID.
        """
        now = time.time() if now is None else now
        with self._connection(synced=False) as conn:
            rows = conn.execute(
                f"WITH due AS (SELECT id FROM enquiries WHERE {self.WAITING} AND message IS NOT NULL"
                "   AND next_attempt_at <= %(now)s AND (lease_until IS NULL OR lease_until <= %(now)s)"
                "   ORDER BY created_at, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
                " UPDATE enquiries e SET lease_until = %(until)s FROM due WHERE e.id = due.id"
                f" RETURNING {', '.join('e.' + c for c in CLAIMED_COLUMNS)}",
                {"now": now, "limit": limit, "until": now + lease_seconds},
            ).fetchall()
        rows.sort(key=lambda r: (r["created_at"], r["id"]))  # RETURNING keeps no order
        return [enquiry(row) for row in rows]
