"""The PostgreSQL outbox against a real server, when things go wrong around it.

What every backend must do is in test_outbox_contract.py. Here: the schema and its
upgrade by several processes at once, the server restarted or crashing during use,
a connection cut in the middle of a transaction, a server that is down, silent or
slow, TLS options in the URL, and a worker killed with its claims.
Tests that stop the server start a cluster of their own.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from email.utils import make_msgid
from pathlib import Path

import psycopg
import pytest

from formsvc.outbox import OutboxUnavailable, new_reference
from formsvc.outbox.postgresql import LATEST_VERSION, PostgreSQLOutbox
from testsupport.postgres import free_port

ROOT = Path(__file__).resolve().parent.parent


def add(outbox, n: int = 0, message: bytes = b"sealed bytes") -> str:
    return outbox.add(message, reference=new_reference(), message_id=make_msgid(domain="rj.example"),
                      submission_id=f"pg-{n}-{time.monotonic_ns()}")


def rows(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(url, connect_timeout=10) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture
def own_postgres(new_postgres):
    """A cluster of this test's own, free to stop, crash and restart."""
    return new_postgres().start()


@pytest.fixture
def opened():
    """``opened(outbox)``: closed at the end of the test."""
    boxes = []

    def keep(outbox):
        boxes.append(outbox)
        return outbox

    yield keep
    for outbox in boxes:
        outbox.close()


def wait_until(condition, timeout: float, what: str):
    end = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return result


# ---------------------------------------------------------------- schema

def test_the_schema_is_made_on_first_use_versioned_and_stores_bytes_as_bytea(postgres_url, opened):
    outbox = opened(PostgreSQLOutbox(postgres_url))
    assert rows(postgres_url, "SELECT to_regclass('enquiries')") == [(None,)]
    add(outbox)
    assert rows(postgres_url, "SELECT version FROM schema_version") == [(LATEST_VERSION,)]
    assert rows(postgres_url, "SELECT data_type FROM information_schema.columns"
                " WHERE table_name = 'enquiries' AND column_name = 'message'") == [("bytea",)]


def test_several_processes_migrating_at_once_upgrade_the_schema_once(postgres_url):
    code = ("import sys, time\nfrom formsvc.outbox.postgresql import PostgreSQLOutbox\n"
            "outbox = PostgreSQLOutbox(sys.argv[1])\nstart = float(sys.argv[2])\n"
            "while time.time() < start:\n    time.sleep(0.001)\noutbox.migrate()\nprint('ok')\n")
    start = time.time() + 2.0
    children = [subprocess.Popen([sys.executable, "-c", code, postgres_url, str(start)], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(6)]
    for child in children:
        out, err = child.communicate(timeout=60)
        assert (child.returncode, out.strip()) == (0, "ok"), err
    assert rows(postgres_url, "SELECT version FROM schema_version") == [(LATEST_VERSION,)]


# ---------------------------------------------------------------- the server goes away and comes back

@pytest.mark.parametrize("mode", ["fast", "immediate"])  # a clean restart; a crash (no checkpoint)
def test_the_server_restarting_during_submissions_loses_nothing_and_the_pool_recovers(mode, own_postgres, opened):
    url = own_postgres.create_database("outbox")
    outbox = opened(PostgreSQLOutbox(url))
    accepted: list[str] = []
    refused: list[str] = []
    stop = threading.Event()

    def submit():
        n = 0
        while not stop.is_set():
            n += 1
            try:
                accepted.append(add(outbox, n))
            except OutboxUnavailable as exc:
                refused.append(str(exc))

    threads = [threading.Thread(target=submit) for _ in range(3)]
    for t in threads:
        t.start()
    wait_until(lambda: len(accepted) >= 30, 30, "submissions before the restart")
    own_postgres.restart(mode)  # every session cut mid-whatever, then back up
    restarted_at = len(accepted)
    wait_until(lambda: len(accepted) >= restarted_at + 30, 30, "submissions after the restart")
    stop.set()
    for t in threads:
        t.join()

    # Every submission that was told "sent" is there; the others were told "try again".
    stored = {r for (r,) in rows(url, "SELECT reference FROM enquiries")}
    assert set(accepted) <= stored
    assert len(stored) - len(accepted) <= len(refused)  # a commit cut mid-reply may be stored anyway


def test_a_crash_of_the_server_keeps_every_enquiry_add_returned(own_postgres, opened):
    url = own_postgres.create_database("outbox")
    outbox = opened(PostgreSQLOutbox(url))
    refs = [add(outbox, i) for i in range(40)]
    own_postgres.stop("immediate")  # no shutdown checkpoint: the start replays the WAL
    own_postgres.start()
    fresh = opened(PostgreSQLOutbox(url))
    assert {e.reference for e in fresh.claim(limit=100)} == set(refs)


def test_a_stopped_server_gives_outbox_unavailable_quickly_then_works_when_back(own_postgres, opened):
    url = own_postgres.create_database("outbox")
    outbox = opened(PostgreSQLOutbox(url, pool_timeout=2))
    add(outbox)
    own_postgres.stop("fast")
    started = time.monotonic()
    with pytest.raises(OutboxUnavailable):
        add(outbox, 1)
    assert time.monotonic() - started < 6
    with pytest.raises(OutboxUnavailable):
        outbox.claim()
    own_postgres.start()
    wait_until(lambda: _works(outbox), 15, "the outbox to work again")
    assert outbox.stats()["backlog"] == 1  # the one added before; the refused one is not there


def _works(outbox) -> bool:
    try:
        outbox.stats()
        return True
    except OutboxUnavailable:
        return False


@pytest.mark.parametrize("server", ["nothing listening", "a server that never answers"])
def test_an_unreachable_server_gives_outbox_unavailable_within_seconds(server):
    port = free_port()
    silent = None
    if server == "a server that never answers":
        silent = socket.socket()
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        silent.bind(("127.0.0.1", port))
        silent.listen(16)
    outbox = PostgreSQLOutbox(f"postgresql://app@127.0.0.1:{port}/outbox", pool_timeout=2, connect_timeout=2)
    try:
        started = time.monotonic()
        with pytest.raises(OutboxUnavailable):
            add(outbox)
        assert time.monotonic() - started < 5
    finally:
        outbox.close()
        if silent is not None:
            silent.close()


# ---------------------------------------------------------------- connections cut, statements too slow

def _blocked(postgres, dbname: str, kind: str) -> list[dict]:
    return postgres.sessions(dbname, f"wait_event_type = 'Lock' AND starts_with(upper(query), '{kind}')")


def test_a_connection_cut_mid_transaction_writes_nothing_and_the_next_call_works(postgres, postgres_url, opened):
    outbox = opened(PostgreSQLOutbox(postgres_url, statement_timeout=30))
    outbox.migrate()
    dbname = postgres_url.rsplit("/", 1)[1]
    blocker = psycopg.connect(postgres_url)
    try:
        # Hold the table so our INSERT waits inside its transaction; then cut that session.
        blocker.execute("LOCK TABLE enquiries IN ACCESS EXCLUSIVE MODE")
        outcome: list[BaseException | str] = []
        reference = new_reference()

        def submit():
            try:
                outcome.append(outbox.add(b"cut", reference=reference, message_id="<cut@rj.example>",
                                          submission_id="cut-me"))
            except BaseException as exc:  # noqa: BLE001 (reported below)
                outcome.append(exc)

        thread = threading.Thread(target=submit)
        thread.start()
        [session] = wait_until(lambda: _blocked(postgres, dbname, "INSERT"), 10, "the INSERT to wait")
        postgres.execute("SELECT pg_terminate_backend(%s)", (session["pid"],))
        thread.join(10)
    finally:
        blocker.rollback()
        blocker.close()
    assert len(outcome) == 1 and isinstance(outcome[0], OutboxUnavailable), outcome
    assert rows(postgres_url, "SELECT count(*) FROM enquiries") == [(0,)]
    assert outbox.reference_for("cut-me") is None
    # The pool replaced the dead connection: the person's second try is stored.
    assert outbox.add(b"cut", reference=reference, message_id="<cut@rj.example>",
                      submission_id="cut-me") == reference


def test_idle_pooled_connections_cut_by_the_server_are_replaced_without_an_error(postgres, postgres_url, opened):
    outbox = opened(PostgreSQLOutbox(postgres_url))
    add(outbox)
    dbname = postgres_url.rsplit("/", 1)[1]
    assert postgres.terminate_connections(dbname) >= 1
    assert outbox.stats()["backlog"] == 1  # checked on checkout, reconnected: no 503 for anyone
    add(outbox, 2)


def test_a_statement_held_up_by_a_lock_is_cancelled_after_the_statement_timeout(postgres_url, opened):
    outbox = opened(PostgreSQLOutbox(postgres_url, statement_timeout=1))
    outbox.migrate()
    blocker = psycopg.connect(postgres_url)
    try:
        blocker.execute("LOCK TABLE enquiries IN ACCESS EXCLUSIVE MODE")
        outcome: list[BaseException | str] = []

        def submit():
            try:
                outcome.append(add(outbox))
            except BaseException as exc:  # noqa: BLE001 (reported below)
                outcome.append(exc)

        started = time.monotonic()
        thread = threading.Thread(target=submit, daemon=True)
        thread.start()
        thread.join(10)  # without the timeout it would wait for the lock for ever: fail, don't hang
        elapsed = time.monotonic() - started
        assert len(outcome) == 1 and isinstance(outcome[0], OutboxUnavailable), outcome
        assert str(outcome[0]) == "QueryCanceled"
        assert 0.9 < elapsed < 4
    finally:
        blocker.rollback()
        blocker.close()
    assert rows(postgres_url, "SELECT count(*) FROM enquiries") == [(0,)]
    add(outbox)  # and it works once free


def test_a_worker_killed_with_its_claims_leaves_them_to_another_after_the_lease(postgres_url, opened):
    outbox = opened(PostgreSQLOutbox(postgres_url))
    refs = {add(outbox, i) for i in range(5)}
    code = ("import os, signal, sys\nfrom formsvc.outbox.postgresql import PostgreSQLOutbox\n"
            "batch = PostgreSQLOutbox(sys.argv[1]).claim(lease_seconds=2)\n"
            "print(len(batch), flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n")
    child = subprocess.run([sys.executable, "-c", code, postgres_url], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert child.returncode == -signal.SIGKILL and child.stdout.strip() == "5", child.stderr
    assert outbox.claim() == []  # still leased to the dead worker
    time.sleep(2.1)
    assert {e.reference for e in outbox.claim()} == refs


# ---------------------------------------------------------------- the URL, processes

def test_libpq_options_in_the_url_are_used_as_given(postgres, postgres_url, opened):
    dbname = postgres_url.rsplit("/", 1)[1]
    outbox = opened(PostgreSQLOutbox(postgres_url + "?application_name=hub-outbox-test&sslmode=disable"))
    add(outbox)
    assert postgres.sessions(dbname, "application_name = 'hub-outbox-test'")
    # sslmode=require against a server without TLS: refused, never sent in the clear.
    strict = opened(PostgreSQLOutbox(postgres_url + "?sslmode=require", pool_timeout=2))
    with pytest.raises(OutboxUnavailable):
        strict.stats()


def test_tls_with_a_verified_server_certificate_from_the_url(tmp_path, opened, new_postgres):
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=pg-test",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    cluster = new_postgres(ssl="on")
    # The server reads its key as its own user, private: copy both into its folder.
    for name, path in (("server.crt", cert), ("server.key", key)):
        target = cluster.data / name
        target.write_bytes(path.read_bytes())
        target.chmod(0o600)
        if os.geteuid() == 0:
            import pwd

            entry = pwd.getpwnam("postgres")
            os.chown(target, entry.pw_uid, entry.pw_gid)
    cluster.start()
    url = cluster.create_database("outbox") + f"?sslmode=verify-full&sslrootcert={cert}"
    outbox = opened(PostgreSQLOutbox(url))
    add(outbox)
    assert cluster.execute("SELECT bool_and(ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)"
                           " WHERE a.datname = 'outbox'") == [(True,)]
    outbox.close()
    # A certificate we do not trust (the system's CAs do not know ours): refused.
    other = opened(PostgreSQLOutbox(cluster.url("outbox") + "?sslmode=verify-full&sslrootcert=system",
                                    pool_timeout=2))
    with pytest.raises(OutboxUnavailable):
        other.stats()


def test_a_forked_child_opens_its_own_connections_and_leaves_the_parents_alone(postgres, postgres_url, opened):
    outbox = opened(PostgreSQLOutbox(postgres_url))
    add(outbox, 1)
    dbname = postgres_url.rsplit("/", 1)[1]
    parents = {s["pid"] for s in postgres.sessions(dbname)}
    pid = os.fork()
    if pid == 0:  # the child, as a gunicorn worker forked after the app was made, then stopped
        code = 1
        try:
            add(outbox, 2)
            # It wrote through a session of its own, not one of the parent's.
            code = 0 if {s["pid"] for s in postgres.sessions(dbname)} - parents else 3
            outbox.close()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    pid = os.fork()
    if pid == 0:  # a child stopped before it used the outbox at all
        try:
            outbox.close()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.5)  # a session the child had ended would be gone by now
    # The child neither used nor closed the parent's sessions: they are all still there.
    assert parents <= {s["pid"] for s in postgres.sessions(dbname)}
    assert outbox.stats()["backlog"] == 2
