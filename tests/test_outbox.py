"""The outbox against real SQLite files: durable, idempotent, leased, and forgetful on purpose."""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from formsvc.outbox import REFERENCE_RE, OutboxUnavailable, ReferenceTaken, normalise_reference
from formsvc.outbox.sqlite import SQLiteOutbox
from testsupport.hubmail import hub_text, store, text_for

ROOT = Path(__file__).resolve().parent.parent


def raw(outbox: SQLiteOutbox, sql: str, *args):
    """Look at the file directly, as an attacker with a copy of it would."""
    conn = sqlite3.connect(outbox.path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_add_returns_a_readable_unguessable_reference(outbox, answers):
    references = {store(outbox, answers(), submission_id=f"s{i}") for i in range(50)}
    assert len(references) == 50
    for reference in references:
        assert REFERENCE_RE.match(reference), reference
        assert not set(reference[3:]) & set("OILU")


def test_the_same_submission_is_stored_once(outbox, answers):
    first = store(outbox, answers(), submission_id="abc")
    again = store(outbox, answers(name="changed after Back"), submission_id="abc")
    assert again == first
    assert raw(outbox, "SELECT COUNT(*) FROM enquiries") == [(1,)]
    assert outbox.stats()["backlog"] == 1


def test_file_is_private_and_in_wal_mode(outbox, answers):
    store(outbox, answers(), submission_id="s")
    assert oct(outbox.path.stat().st_mode & 0o777) == "0o600"
    assert raw(outbox, "PRAGMA journal_mode") == [("wal",)]


def test_a_committed_add_is_seen_by_another_process_that_died_straight_after(outbox, run_python):
    # The child adds, then exits without any clean-up (os._exit): if add returned,
    # the enquiry must be in the file.
    code = (
        "import os, sys; from formsvc.outbox.sqlite import SQLiteOutbox;"
        f"r = SQLiteOutbox({str(outbox.path)!r}).add(b'hello', reference='RJ-CH11D000', message_id='<m@x>',"
        " submission_id='child');"
        "sys.stdout.write(r); sys.stdout.flush(); os._exit(0)"
    )
    child = run_python("-c", code, timeout=30)
    assert child.returncode == 0, child.stderr
    reference = child.stdout
    claimed = SQLiteOutbox(outbox.path).claim()
    assert [(e.reference, e.message) for e in claimed] == [(reference, b"hello")]


def test_claim_gives_due_enquiries_oldest_first_and_leases_them(outbox, answers):
    refs = [store(outbox, answers(), submission_id=f"s{i}") for i in range(3)]
    store(outbox, answers(), submission_id="spam", quarantined=True, reason="honeypot")
    now = time.time()

    batch = outbox.claim(now=now, limit=2)
    assert [e.reference for e in batch] == refs[:2]
    assert hub_text(batch[0].message) == text_for(batch[0], answers())
    assert batch[0].attempts == 0
    # Leased: another worker gets only what is left, never the quarantined one.
    assert [e.reference for e in outbox.claim(now=now)] == refs[2:]
    assert outbox.claim(now=now + 10) == []


def test_after_a_crash_the_lease_runs_out_and_the_same_message_id_comes_back(outbox, answers):
    store(outbox, answers(), submission_id="s")
    now = time.time()
    first = outbox.claim(now=now, lease_seconds=300)
    # ... the worker dies here without marking anything ...
    assert outbox.claim(now=now + 299) == []
    second = outbox.claim(now=now + 301)
    assert [e.message_id for e in second] == [first[0].message_id]
    assert first[0].message_id.endswith("@rj.example>")


def test_delivery_deletes_the_message_but_keeps_the_trace(outbox, answers):
    marker = "UNIQUE-MARKER-words-of-a-victim"
    reference = store(outbox, answers(message=marker), submission_id="s")
    for i in range(3):  # neighbours on the same page, still waiting
        store(outbox, answers(), submission_id=f"other{i}")
    enquiry = outbox.claim()[0]
    outbox.mark_delivered(enquiry.id)
    outbox.checkpoint()

    [(ref, msgid, created, delivered, stored)] = raw(
        outbox, "SELECT reference, message_id, created_at, delivered_at, message FROM enquiries"
        " WHERE delivered_at IS NOT NULL")
    assert (ref, msgid, stored) == (reference, enquiry.message_id, None)
    assert created and delivered
    # Not just unlinked: the words are gone from the file itself (secure_delete,
    # and the WAL emptied by checkpoint).
    for path in outbox.path.parent.iterdir():
        assert marker.encode() not in path.read_bytes(), path.name
    assert outbox.stats()["delivered"] == 1 and outbox.stats()["backlog"] == 3


def test_transient_failure_waits_then_comes_back(outbox, answers):
    store(outbox, answers(), submission_id="s")
    now = time.time()
    [e] = outbox.claim(now=now)
    outbox.mark_transient_failure(e.id, "SMTP 451\nwith a second line", next_attempt_at=now + 120)
    assert outbox.claim(now=now + 119) == []
    [again] = outbox.claim(now=now + 121)
    assert again.attempts == 1 and again.message_id == e.message_id
    assert raw(outbox, "SELECT last_error FROM enquiries") == [("SMTP 451 with a second line",)]


def test_failed_are_kept_listed_without_personal_data_and_can_be_retried(outbox, answers):
    reference = store(outbox, answers(), submission_id="s")
    [e] = outbox.claim()
    outbox.mark_permanent_failure(e.id, "SMTP 550 5.7.1")
    assert outbox.claim(now=time.time() + 10**6) == []

    [row] = outbox.failed()
    assert set(row) == {"reference", "created_at", "attempts", "last_error"}
    assert (row["reference"], row["attempts"], row["last_error"]) == (reference, 1, "SMTP 550 5.7.1")
    assert outbox.stats()["failed"] == 1 and outbox.stats()["backlog"] == 0

    # Typed from a phone call, in lower case with a letter O for a zero: still found.
    assert outbox.retry(reference.lower().replace("0", "o")) is True
    assert outbox.failed() == []
    [back] = outbox.claim()
    assert back.message == e.message and back.message_id == e.message_id
    outbox.mark_delivered(back.id)
    assert outbox.retry(reference) is False  # nothing to retry once delivered
    assert outbox.retry("RJ-ZZZZZZZZ") is False


def test_quarantine_is_kept_apart_counted_released_or_purged(outbox, answers):
    now = time.time()
    kept = store(outbox, answers(), submission_id="q1", quarantined=True, reason="honeypot")
    old = store(outbox, answers(), submission_id="q2", quarantined=True, reason="too fast")
    assert outbox.claim() == []
    assert outbox.stats() == {"backlog": 0, "oldest_undelivered_age_seconds": None, "failed": 0,
                              "quarantined": 2, "delivered": 0}
    rows = {r["reference"]: r for r in outbox.quarantined()}
    assert rows[kept]["reason"] == "honeypot" and rows[kept]["purged"] is False
    assert set(rows[kept]) == {"reference", "created_at", "attempts", "last_error", "reason", "purged"}

    # Nothing is older than 30 days yet: nothing purged.
    assert outbox.purge_quarantine(30 * 86400) == 0
    # Make one look 31 days old, then purge: its message goes, its row stays.
    conn = sqlite3.connect(outbox.path)
    conn.execute("UPDATE enquiries SET created_at = ? WHERE reference = ?", (now - 31 * 86400, old))
    conn.commit()
    conn.close()
    assert outbox.purge_quarantine(30 * 86400) == 1
    assert raw(outbox, "SELECT message IS NULL FROM enquiries WHERE reference = ?", old) == [(1,)]
    assert {r["reference"]: r["purged"] for r in outbox.quarantined()} == {kept: False, old: True}
    assert outbox.retry(old) is False  # nothing left to send

    # A real enquiry caught by mistake is released to the queue.
    assert outbox.retry(kept) is True
    assert [e.reference for e in outbox.claim()] == [kept]


def test_stats_counts_the_backlog_and_its_oldest_age(outbox, answers):
    assert outbox.stats() == {"backlog": 0, "oldest_undelivered_age_seconds": None, "failed": 0,
                              "quarantined": 0, "delivered": 0}
    store(outbox, answers(), submission_id="a")
    store(outbox, answers(), submission_id="b")
    stats = outbox.stats(now=time.time() + 100)
    assert stats["backlog"] == 2
    assert 99 < stats["oldest_undelivered_age_seconds"] < 110


def test_a_locked_database_raises_outbox_unavailable_and_writes_nothing(tmp_path, answers):
    outbox = SQLiteOutbox(tmp_path / "outbox.sqlite3", busy_timeout=0.2)
    outbox.stats()  # create the file and schema
    blocker = sqlite3.connect(outbox.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(OutboxUnavailable):
            store(outbox, answers(), submission_id="s")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert raw(outbox, "SELECT COUNT(*) FROM enquiries") == [(0,)]
    assert store(outbox, answers(), submission_id="s")  # and it works once free


def test_a_new_file_another_connection_is_creating_is_waited_for_not_refused(tmp_path, answers):
    # Several workers' first requests on a new file: one is writing it (not yet in
    # WAL mode) while another asks for WAL, which SQLite refuses at once instead of
    # waiting. CI saw one of six such first adds fail this way.
    path = tmp_path / "outbox.sqlite3"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE early (x)")
    letting_go = threading.Timer(0.3, other.execute, ("COMMIT",))
    letting_go.start()
    try:
        reference = store(SQLiteOutbox(path, busy_timeout=5), answers(), submission_id="s")
    finally:
        letting_go.join()  # not closed under its COMMIT
        other.close()
    assert raw(SQLiteOutbox(path), "SELECT reference FROM enquiries") == [(reference,)]
    assert raw(SQLiteOutbox(path), "PRAGMA journal_mode") == [("wal",)]


def test_an_unwritable_place_raises_outbox_unavailable(tmp_path, answers):
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(OutboxUnavailable):
        store(SQLiteOutbox(tmp_path / "a-file" / "outbox.sqlite3"), answers(), submission_id="s")


def test_normalise_reference():
    assert normalise_reference(" rj-7k2m 9qdx ") == "RJ-7K2M9QDX"
    assert normalise_reference("RJ7K2MOQDI") == "RJ-7K2M0QD1"


def test_init_app_and_get_outbox(tmp_path):
    from formsvc import create_app
    from formsvc.outbox import get_outbox

    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "MAIL_FROM": "a@rj.example"})
    assert get_outbox(app).path == tmp_path / "outbox.sqlite3"
    with app.app_context():
        assert get_outbox() is app.extensions["outbox"]
    assert os.path.isdir(tmp_path)


def test_add_stores_exactly_the_bytes_it_is_given_with_their_reference_and_message_id(outbox):
    data = b"Subject: Restorative justice enquiry RJ-0000AAAA\r\n\r\nsealed bytes \x00\xff\r\n"
    reference = outbox.add(data, reference="RJ-0000AAAA", message_id="<a@rj.example>", submission_id="s")
    assert reference == "RJ-0000AAAA"
    [e] = outbox.claim()
    assert (e.reference, e.message_id, e.message) == ("RJ-0000AAAA", "<a@rj.example>", data)
    assert outbox.reference_for("s") == "RJ-0000AAAA" and outbox.reference_for("other") is None


def test_a_reference_that_is_taken_is_refused_and_nothing_is_stored(outbox):
    outbox.add(b"first", reference="RJ-0000AAAA", message_id="<a@x>", submission_id="s1")
    with pytest.raises(ReferenceTaken):
        outbox.add(b"second", reference="RJ-0000AAAA", message_id="<b@x>", submission_id="s2")
    assert raw(outbox, "SELECT submission_id FROM enquiries") == [("s1",)]


def test_a_version_1_file_is_upgraded_and_its_waiting_answers_become_messages(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE enquiries (id INTEGER PRIMARY KEY, reference TEXT NOT NULL UNIQUE,
            submission_id TEXT NOT NULL UNIQUE, message_id TEXT NOT NULL, created_at REAL NOT NULL,
            queued_at REAL NOT NULL, answers TEXT, quarantined INTEGER NOT NULL DEFAULT 0,
            quarantine_reason TEXT, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL,
            lease_until REAL, delivered_at REAL, failed_at REAL, purged_at REAL, last_error TEXT);
        INSERT INTO enquiries (reference, submission_id, message_id, created_at, queued_at, answers,
            next_attempt_at) VALUES ('RJ-0000AAAA', 's1', '<a@x>', 1, 1, '{"message": "waiting"}', 1);
        INSERT INTO enquiries (reference, submission_id, message_id, created_at, queued_at, answers,
            next_attempt_at, delivered_at) VALUES ('RJ-0000BBBB', 's2', '<b@x>', 1, 1, NULL, 1, 2);
    """)
    conn.close()
    with pytest.raises(OutboxUnavailable):  # no way to build the messages: refused, nothing lost
        SQLiteOutbox(path).migrate()
    assert "answers" in {row[1] for row in raw(SQLiteOutbox(path), "PRAGMA table_info(enquiries)")}

    made = []
    upgraded = SQLiteOutbox(path, upgrade=lambda answers, ref, mid, at: made.append(ref) or f"{ref} {answers}".encode())
    upgraded.migrate()
    assert made == ["RJ-0000AAAA"]
    [e] = upgraded.claim(now=10)
    assert (e.reference, e.message_id, e.message) == ("RJ-0000AAAA", "<a@x>", b"RJ-0000AAAA {'message': 'waiting'}")
    assert "answers" not in {row[1] for row in raw(upgraded, "PRAGMA table_info(enquiries)")}
    assert raw(upgraded, "PRAGMA user_version") == [(2,)]


def test_database_url_chooses_the_backend(tmp_path):
    from formsvc import create_app
    from formsvc.outbox import get_outbox
    from formsvc.outbox.postgresql import PostgreSQLOutbox

    url = "postgresql://app:secret@db.example:5432/outbox?sslmode=verify-full&sslrootcert=/etc/ca.pem"
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "DATABASE_URL": url})
    outbox = get_outbox(app)
    assert isinstance(outbox, PostgreSQLOutbox)
    assert outbox.url == url  # passed to libpq as given: TLS options and all
    assert not (tmp_path / "outbox.sqlite3").exists()
    with pytest.raises(RuntimeError) as refused:
        create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "DATABASE_URL": "mysql://app:secret@db/x"})
    assert "secret" not in str(refused.value)  # never echo a password
