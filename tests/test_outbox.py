"""The outbox against real SQLite files: durable, idempotent, leased, and forgetful on purpose."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from formsvc.outbox import REFERENCE_RE, Outbox, OutboxUnavailable, normalise_reference

ROOT = Path(__file__).resolve().parent.parent


def raw(outbox: Outbox, sql: str, *args):
    """Look at the file directly, as an attacker with a copy of it would."""
    conn = sqlite3.connect(outbox.path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_add_returns_a_readable_unguessable_reference(outbox, answers):
    references = {outbox.add(answers(), submission_id=f"s{i}") for i in range(50)}
    assert len(references) == 50
    for reference in references:
        assert REFERENCE_RE.match(reference), reference
        assert not set(reference[3:]) & set("OILU")


def test_the_same_submission_is_stored_once(outbox, answers):
    first = outbox.add(answers(), submission_id="abc")
    again = outbox.add(answers(name="changed after Back"), submission_id="abc")
    assert again == first
    assert raw(outbox, "SELECT COUNT(*) FROM enquiries") == [(1,)]
    assert outbox.stats()["backlog"] == 1


def test_file_is_private_and_in_wal_mode(outbox, answers):
    outbox.add(answers(), submission_id="s")
    assert oct(outbox.path.stat().st_mode & 0o777) == "0o600"
    assert raw(outbox, "PRAGMA journal_mode") == [("wal",)]


def test_a_committed_add_is_seen_by_another_process_that_died_straight_after(outbox):
    # The child adds, then exits without any clean-up (os._exit): if add returned,
    # the enquiry must be in the file.
    code = (
        "import os, sys; from formsvc.outbox import Outbox;"
        f"r = Outbox({str(outbox.path)!r}).add({{'message': 'hello'}}, submission_id='child');"
        "sys.stdout.write(r); sys.stdout.flush(); os._exit(0)"
    )
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert child.returncode == 0, child.stderr
    reference = child.stdout
    claimed = Outbox(outbox.path).claim()
    assert [(e.reference, e.answers) for e in claimed] == [(reference, {"message": "hello"})]


def test_claim_gives_due_enquiries_oldest_first_and_leases_them(outbox, answers):
    refs = [outbox.add(answers(), submission_id=f"s{i}") for i in range(3)]
    outbox.add(answers(), submission_id="spam", quarantined=True, reason="honeypot")
    now = time.time()

    batch = outbox.claim(now=now, limit=2)
    assert [e.reference for e in batch] == refs[:2]
    assert batch[0].answers == answers()
    assert batch[0].attempts == 0
    # Leased: another worker gets only what is left, never the quarantined one.
    assert [e.reference for e in outbox.claim(now=now)] == refs[2:]
    assert outbox.claim(now=now + 10) == []


def test_after_a_crash_the_lease_runs_out_and_the_same_message_id_comes_back(outbox, answers):
    outbox.add(answers(), submission_id="s")
    now = time.time()
    first = outbox.claim(now=now, lease_seconds=300)
    # ... the worker dies here without marking anything ...
    assert outbox.claim(now=now + 299) == []
    second = outbox.claim(now=now + 301)
    assert [e.message_id for e in second] == [first[0].message_id]
    assert first[0].message_id.endswith("@rj.example>")


def test_concurrent_claimers_never_get_the_same_enquiry(outbox, answers):
    for i in range(40):
        outbox.add(answers(), submission_id=f"s{i}")
    got: list[list[int]] = []

    def worker():
        other = Outbox(outbox.path)  # its own object, as in another process
        mine = []
        while batch := other.claim(limit=3):
            mine += [e.id for e in batch]
        got.append(mine)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [i for mine in got for i in mine]
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 40


def test_delivery_deletes_the_answers_but_keeps_the_trace(outbox, answers):
    marker = "UNIQUE-MARKER-words-of-a-victim"
    reference = outbox.add(answers(message=marker), submission_id="s")
    for i in range(3):  # neighbours on the same page, still waiting
        outbox.add(answers(), submission_id=f"other{i}")
    enquiry = outbox.claim()[0]
    outbox.mark_delivered(enquiry.id)
    outbox.checkpoint()

    [(ref, msgid, created, delivered, stored)] = raw(
        outbox, "SELECT reference, message_id, created_at, delivered_at, answers FROM enquiries"
        " WHERE delivered_at IS NOT NULL")
    assert (ref, msgid, stored) == (reference, enquiry.message_id, None)
    assert created and delivered
    # Not just unlinked: the words are gone from the file itself (secure_delete,
    # and the WAL emptied by checkpoint).
    for path in outbox.path.parent.iterdir():
        assert marker.encode() not in path.read_bytes(), path.name
    assert outbox.stats()["delivered"] == 1 and outbox.stats()["backlog"] == 3


def test_transient_failure_waits_then_comes_back(outbox, answers):
    outbox.add(answers(), submission_id="s")
    now = time.time()
    [e] = outbox.claim(now=now)
    outbox.mark_transient_failure(e.id, "SMTP 451\nwith a second line", next_attempt_at=now + 120)
    assert outbox.claim(now=now + 119) == []
    [again] = outbox.claim(now=now + 121)
    assert again.attempts == 1 and again.message_id == e.message_id
    assert raw(outbox, "SELECT last_error FROM enquiries") == [("SMTP 451 with a second line",)]


def test_failed_are_kept_listed_without_personal_data_and_can_be_retried(outbox, answers):
    reference = outbox.add(answers(), submission_id="s")
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
    assert back.answers == answers() and back.message_id == e.message_id
    outbox.mark_delivered(back.id)
    assert outbox.retry(reference) is False  # nothing to retry once delivered
    assert outbox.retry("RJ-ZZZZZZZZ") is False


def test_quarantine_is_kept_apart_counted_released_or_purged(outbox, answers):
    now = time.time()
    kept = outbox.add(answers(), submission_id="q1", quarantined=True, reason="honeypot")
    old = outbox.add(answers(), submission_id="q2", quarantined=True, reason="too fast")
    assert outbox.claim() == []
    assert outbox.stats() == {"backlog": 0, "oldest_undelivered_age_seconds": None, "failed": 0,
                              "quarantined": 2, "delivered": 0}
    rows = {r["reference"]: r for r in outbox.quarantined()}
    assert rows[kept]["reason"] == "honeypot" and rows[kept]["purged"] is False
    assert set(rows[kept]) == {"reference", "created_at", "attempts", "last_error", "reason", "purged"}

    # Nothing is older than 30 days yet: nothing purged.
    assert outbox.purge_quarantine(30 * 86400) == 0
    # Make one look 31 days old, then purge: its answers go, its row stays.
    conn = sqlite3.connect(outbox.path)
    conn.execute("UPDATE enquiries SET created_at = ? WHERE reference = ?", (now - 31 * 86400, old))
    conn.commit()
    conn.close()
    assert outbox.purge_quarantine(30 * 86400) == 1
    assert raw(outbox, "SELECT answers IS NULL FROM enquiries WHERE reference = ?", old) == [(1,)]
    assert {r["reference"]: r["purged"] for r in outbox.quarantined()} == {kept: False, old: True}
    assert outbox.retry(old) is False  # nothing left to send

    # A real enquiry caught by mistake is released to the queue.
    assert outbox.retry(kept) is True
    assert [e.reference for e in outbox.claim()] == [kept]


def test_stats_counts_the_backlog_and_its_oldest_age(outbox, answers):
    assert outbox.stats() == {"backlog": 0, "oldest_undelivered_age_seconds": None, "failed": 0,
                              "quarantined": 0, "delivered": 0}
    outbox.add(answers(), submission_id="a")
    outbox.add(answers(), submission_id="b")
    stats = outbox.stats(now=time.time() + 100)
    assert stats["backlog"] == 2
    assert 99 < stats["oldest_undelivered_age_seconds"] < 110


def test_a_locked_database_raises_outbox_unavailable_and_writes_nothing(tmp_path, answers):
    outbox = Outbox(tmp_path / "outbox.sqlite3", busy_timeout=0.2)
    outbox.stats()  # create the file and schema
    blocker = sqlite3.connect(outbox.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(OutboxUnavailable):
            outbox.add(answers(), submission_id="s")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert raw(outbox, "SELECT COUNT(*) FROM enquiries") == [(0,)]
    assert outbox.add(answers(), submission_id="s")  # and it works once free


def test_an_unwritable_place_raises_outbox_unavailable(tmp_path, answers):
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(OutboxUnavailable):
        Outbox(tmp_path / "a-file" / "outbox.sqlite3").add(answers(), submission_id="s")


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
