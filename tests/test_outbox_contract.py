"""The outbox interface (formsvc/outbox/__init__.py), once, for every backend.

Each test runs against each entry of ``STORES``: a backend's real storage, made
fresh for the test. Adding a backend is one entry: a function returning a
``Store`` (how to open another outbox on the same storage, in this process and in a
child process, and how to read what the storage holds around the outbox).
Engine-specific behaviour (server restarts, cut connections, files) is tested in
``test_outbox_<backend>.py``.
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import make_msgid
from pathlib import Path

import pytest

from formsvc.outbox import (
    REFERENCE_RE,
    OutboxUnavailable,
    ReferenceTaken,
    StoredMessage,
    new_reference,
)

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Store:
    """One backend's storage for one test."""

    #: Another outbox object on the same storage, as another process would have.
    make: Callable[[], object]
    #: Python statements that bind ``outbox`` to one on this storage, in a child process.
    child_setup: str
    #: The message bytes the storage holds for a reference (None once deleted), read around the outbox.
    stored_message: Callable[[str], bytes | None]
    opened: list = field(default_factory=list)

    def open(self):
        outbox = self.make()
        self.opened.append(outbox)
        return outbox

    def close(self) -> None:
        for outbox in self.opened:
            outbox.close()


def postgresql_store(request) -> Store:
    import psycopg

    from formsvc.outbox.postgresql import PostgreSQLOutbox

    url = request.getfixturevalue("postgres_url")

    def stored_message(reference: str) -> bytes | None:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT message FROM enquiries WHERE reference = %s", (reference,)).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    return Store(
        make=lambda: PostgreSQLOutbox(url),
        child_setup=f"from formsvc.outbox.postgresql import PostgreSQLOutbox\noutbox = PostgreSQLOutbox({url!r})",
        stored_message=stored_message,
    )


def sqlite_store(request) -> Store:
    import sqlite3

    from formsvc.outbox.sqlite import SQLiteOutbox

    path = request.getfixturevalue("tmp_path") / "data" / "outbox.sqlite3"

    def stored_message(reference: str) -> bytes | None:
        with sqlite3.connect(path) as conn:
            row = conn.execute("SELECT message FROM enquiries WHERE reference = ?", (reference,)).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    return Store(
        make=lambda: SQLiteOutbox(path),
        child_setup=f"from formsvc.outbox.sqlite import SQLiteOutbox\noutbox = SQLiteOutbox({str(path)!r})",
        stored_message=stored_message,
    )


#: backend name -> how to make its storage for one test.
STORES: dict[str, Callable[[pytest.FixtureRequest], Store]] = {
    "postgresql": postgresql_store,
    "sqlite": sqlite_store,
}


@pytest.fixture(params=[pytest.param(name, marks=pytest.mark.postgres) if name == "postgresql" else name
                        for name in sorted(STORES)])
def store(request):
    made = STORES[request.param](request)
    yield made
    made.close()


@pytest.fixture
def outbox(store):
    return store.open()


def sealed(n: int = 0, size: int = 3000) -> bytes:
    """Bytes as the sealing step makes them: binary (NUL, CR, high bytes), a few KB."""
    marker = f"SEALED-{n:06d}-".encode()
    return marker + os.urandom(size) + b"\x00\r\n\xff" + marker


def put(outbox, n: int = 0, *, message: bytes | None = None, **options) -> tuple[str, bytes, str]:
    """Add one enquiry as the web half does; returns (reference, message, message_id)."""
    reference, message_id = new_reference(), make_msgid(domain="rj.example")
    message = sealed(n) if message is None else message
    stored = outbox.add(message, reference=reference, message_id=message_id,
                        submission_id=options.pop("submission_id", f"sub-{n}-{reference}"), **options)
    assert stored == reference
    return reference, message, message_id


def run_children(run_python, store: Store, body: str, count: int, timeout: float = 60) -> list[str]:
    """Run ``body`` in ``count`` child processes at once (after ``outbox`` is set up, they
    wait for a common start time); return each one's stdout."""
    code = f"import json, os, sys, time\n{store.child_setup}\n" \
           "start = float(sys.argv[1])\nwhile time.time() < start:\n    time.sleep(0.001)\n" + body
    start = time.time() + 2.0  # enough for every child to import and connect first
    children = [run_python.start("-c", code, str(start)) for _ in range(count)]
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=timeout)
        assert child.returncode == 0, err
        outputs.append(out)
    return outputs


# ---------------------------------------------------------------- add: durable, idempotent, exact

def test_add_returns_the_callers_reference_and_reference_for_finds_it(outbox):
    reference, _, _ = put(outbox, submission_id="abc")
    assert REFERENCE_RE.match(reference)
    assert outbox.reference_for("abc") == reference
    assert outbox.reference_for("never-sent") is None


def test_the_message_is_stored_and_given_back_byte_for_byte(outbox, store):
    # Not text: every byte value, a NUL, bare CR and LF, and a large attachment-sized body.
    message = bytes(range(256)) * 4 + b"\x00\r\r\n\n" + os.urandom(300_000)
    reference, _, message_id = put(outbox, message=message)
    assert store.stored_message(reference) == message
    [enquiry] = outbox.claim()
    assert isinstance(enquiry, StoredMessage)
    assert (enquiry.reference, enquiry.message_id, enquiry.message) == (reference, message_id, message)
    assert "message=" not in repr(enquiry)  # never in a log by accident


def test_the_same_submission_is_stored_once(outbox, store):
    first, message, message_id = put(outbox, submission_id="abc")
    # A double click or a resubmit after Back: a new reference, a new message, the same submission.
    again = outbox.add(sealed(99), reference=new_reference(), message_id=make_msgid(domain="rj.example"),
                       submission_id="abc")
    assert again == first
    assert outbox.stats()["backlog"] == 1
    [enquiry] = outbox.claim()
    assert (enquiry.message, enquiry.message_id) == (message, message_id)


def test_two_instances_receiving_the_same_submission_at_once_store_it_once(store):
    instances = [store.open() for _ in range(6)]
    barrier = threading.Barrier(len(instances))
    answers: list[str] = []

    def submit(box):
        barrier.wait()
        answers.append(box.add(sealed(), reference=new_reference(), message_id=make_msgid(domain="rj.example"),
                               submission_id="double-click"))

    threads = [threading.Thread(target=submit, args=(box,)) for box in instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 6 and len(set(answers)) == 1
    assert instances[0].stats()["backlog"] == 1
    assert [e.reference for e in instances[0].claim()] == answers[:1]


def test_a_reference_another_submission_has_raises_reference_taken_and_stores_nothing(outbox, store):
    reference, message, _ = put(outbox, submission_id="first")
    with pytest.raises(ReferenceTaken):
        outbox.add(sealed(2), reference=reference, message_id=make_msgid(domain="rj.example"),
                   submission_id="second")
    assert outbox.reference_for("second") is None
    assert outbox.stats()["backlog"] == 1
    assert store.stored_message(reference) == message  # the first one is untouched
    # The web half draws another reference, rebuilds and tries again.
    other, _, _ = put(outbox, submission_id="second")
    assert outbox.reference_for("second") == other != reference


def test_the_same_reference_drawn_by_two_submissions_at_once_goes_to_one(store):
    instances = [store.open() for _ in range(4)]
    barrier = threading.Barrier(len(instances))
    reference = new_reference()
    results: list[str] = []

    def submit(i, box):
        barrier.wait()
        try:
            box.add(sealed(i), reference=reference, message_id=make_msgid(domain="rj.example"),
                    submission_id=f"s{i}")
            results.append("stored")
        except ReferenceTaken:
            results.append("taken")

    threads = [threading.Thread(target=submit, args=(i, box)) for i, box in enumerate(instances)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["stored", "taken", "taken", "taken"]
    assert instances[0].stats()["backlog"] == 1


def test_a_submission_id_is_required(outbox):
    with pytest.raises(ValueError):
        outbox.add(sealed(), reference=new_reference(), message_id="<x@rj.example>", submission_id="")


def test_a_committed_add_is_there_for_another_process_after_the_adder_died(store, run_python):
    # The child adds, then exits without any clean-up (os._exit): once add returned,
    # the enquiry must be stored.
    body = ("r = outbox.add(b'from the child', reference=sys.argv[2], message_id='<child@rj.example>',"
            " submission_id='child')\nsys.stdout.write(r); sys.stdout.flush(); os._exit(0)\n")
    reference = new_reference()
    code = f"import os, sys\n{store.child_setup}\n{body}"
    child = run_python("-c", code, "0", reference, timeout=60)
    assert child.returncode == 0, child.stderr
    assert child.stdout == reference
    claimed = store.open().claim()
    assert [(e.reference, e.message, e.message_id) for e in claimed] == [
        (reference, b"from the child", "<child@rj.example>")]


# ---------------------------------------------------------------- claim: oldest first, leased, exclusive

def test_claim_gives_due_enquiries_oldest_first_and_leases_them(outbox, clock):
    refs = []
    for i in range(3):
        refs.append(put(outbox, i)[0])
        clock.advance(1)
    put(outbox, 9, quarantined=True, reason="honeypot")
    now = time.time()

    batch = outbox.claim(now=now, limit=2)
    assert [e.reference for e in batch] == refs[:2]
    assert [e.attempts for e in batch] == [0, 0]
    assert batch[0].created_at < batch[1].created_at
    assert batch[0].queued_at == batch[0].created_at
    # Leased: the next claim (any worker) gets only what is left, never the quarantined one.
    assert [e.reference for e in outbox.claim(now=now)] == refs[2:]
    assert outbox.claim(now=now + 10) == []


def test_after_a_crash_the_lease_runs_out_and_the_same_message_id_comes_back(outbox, store):
    _, message, message_id = put(outbox)
    now = time.time()
    [first] = outbox.claim(now=now, lease_seconds=300)
    # ... the worker dies here without marking anything; another worker looks ...
    other = store.open()
    assert other.claim(now=now + 299) == []
    [second] = other.claim(now=now + 301)
    assert (second.id, second.message_id, second.message) == (first.id, message_id, message)
    assert second.attempts == 0


def test_release_gives_claimed_enquiries_back_at_once_but_never_undoes_delivery(outbox):
    put(outbox, 1)
    put(outbox, 2)
    now = time.time()
    first, second = outbox.claim(now=now)
    outbox.mark_delivered(first.id)
    outbox.release([first.id, second.id])
    assert [e.id for e in outbox.claim(now=now)] == [second.id]
    assert outbox.stats(now=now)["delivered"] == 1
    outbox.release([])  # nothing to give back: fine


def test_concurrent_claimers_in_threads_never_get_the_same_enquiry(store):
    filler = store.open()
    for i in range(60):
        put(filler, i)
    got: list[list[int]] = []
    barrier = threading.Barrier(4)

    def worker():
        other = store.open()  # its own object, as another process has
        barrier.wait()
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
    assert len(claimed) == 60 and len(set(claimed)) == 60


def test_concurrent_claimers_in_separate_processes_never_get_the_same_enquiry(store, run_python):
    filler = store.open()
    for i in range(150):
        put(filler, i)
    body = ("mine = []\nwhile batch := outbox.claim(limit=2):\n    mine += [e.id for e in batch]\n"
            "print(json.dumps(mine))\n")
    outputs = run_children(run_python, store, body, count=3)
    claimed = [i for out in outputs for i in json.loads(out)]
    assert len(claimed) == 150 and len(set(claimed)) == 150


# ---------------------------------------------------------------- results: delivered, retried, failed

def test_delivery_deletes_the_message_but_keeps_the_trace(outbox, store):
    reference, message, _ = put(outbox, 1)
    neighbour, neighbour_message, _ = put(outbox, 2)
    [enquiry, _] = outbox.claim()
    outbox.mark_delivered(enquiry.id)
    assert store.stored_message(reference) is None
    assert store.stored_message(neighbour) == neighbour_message
    stats = outbox.stats()
    assert (stats["delivered"], stats["backlog"]) == (1, 1)
    assert outbox.retry(reference) is False  # nothing to send again
    assert outbox.failed() == [] and outbox.quarantined() == []


def test_delivered_wins_over_a_slower_twins_failure(outbox):
    put(outbox)
    now = time.time()
    [enquiry] = outbox.claim(now=now, lease_seconds=1)
    [twin] = outbox.claim(now=now + 2)  # the lease ran out: another worker has it too
    outbox.mark_delivered(enquiry.id)
    outbox.mark_transient_failure(twin.id, "SMTP 451", next_attempt_at=now)
    outbox.mark_permanent_failure(twin.id, "SMTP 550")
    assert outbox.claim(now=now + 10**6) == []
    assert outbox.failed() == []
    assert outbox.stats()["delivered"] == 1 and outbox.stats()["failed"] == 0


def test_transient_failure_waits_then_comes_back_with_the_same_message_id(outbox):
    _, message, message_id = put(outbox)
    now = time.time()
    [e] = outbox.claim(now=now)
    outbox.mark_transient_failure(e.id, "SMTP 451\nwith a second line", next_attempt_at=now + 120)
    assert outbox.claim(now=now + 119) == []
    [again] = outbox.claim(now=now + 121)
    assert (again.attempts, again.message_id, again.message) == (1, message_id, message)
    outbox.mark_permanent_failure(again.id, "gave up")
    assert outbox.failed()[0]["attempts"] == 2


def test_failed_are_kept_listed_without_personal_data_and_can_be_retried(outbox, store, clock):
    reference, message, message_id = put(outbox)
    [e] = outbox.claim()
    outbox.mark_permanent_failure(e.id, "SMTP 550 5.7.1\r\nsecond line " + "x" * 500)
    assert outbox.claim(now=time.time() + 10**6) == []
    assert store.stored_message(reference) == message  # kept for the operator's retry

    [row] = outbox.failed()
    assert set(row) == {"reference", "created_at", "attempts", "last_error"}
    assert (row["reference"], row["attempts"]) == (reference, 1)
    assert row["last_error"].startswith("SMTP 550 5.7.1 second line")
    assert "\n" not in row["last_error"] and len(row["last_error"]) <= 120
    stats = outbox.stats()
    assert (stats["failed"], stats["backlog"]) == (1, 0)

    clock.advance(3600)
    # Typed from a phone call, in lower case with a letter O for a zero: still found.
    assert outbox.retry(reference.lower().replace("0", "o")) is True
    assert outbox.failed() == []
    [back] = outbox.claim()
    assert (back.message, back.message_id, back.attempts) == (message, message_id, 0)
    assert back.queued_at - back.created_at >= 3600  # the give-up clock starts again
    outbox.mark_delivered(back.id)
    assert outbox.retry(reference) is False
    assert outbox.retry("RJ-ZZZZZZZZ") is False


# ---------------------------------------------------------------- quarantine and purge

def test_quarantine_is_kept_apart_counted_released_or_purged(outbox, store, clock):
    old, _, _ = put(outbox, 1, quarantined=True, reason="too fast")
    clock.advance(31 * 86400)  # that one is now 31 days old
    kept, kept_message, _ = put(outbox, 2, quarantined=True, reason="honeypot")
    waiting, waiting_message, _ = put(outbox, 3)
    # An ordinary enquiry as old as the spam is never purged, only quarantined ones.
    clock.advance(-31 * 86400)
    ancient, ancient_message, _ = put(outbox, 4)
    clock.advance(31 * 86400)

    assert {e.reference for e in outbox.claim(lease_seconds=1)} == {waiting, ancient}
    stats = outbox.stats()
    assert (stats["quarantined"], stats["backlog"]) == (2, 2)
    rows = {r["reference"]: r for r in outbox.quarantined()}
    assert set(rows) == {old, kept}
    assert set(rows[kept]) == {"reference", "created_at", "attempts", "last_error", "reason", "purged"}
    assert (rows[kept]["reason"], rows[kept]["purged"]) == ("honeypot", False)

    assert outbox.purge_quarantine(40 * 86400) == 0  # nothing that old
    assert outbox.purge_quarantine(30 * 86400) == 1
    assert outbox.purge_quarantine(30 * 86400) == 0  # once only
    assert store.stored_message(old) is None
    assert store.stored_message(kept) == kept_message
    assert store.stored_message(ancient) == ancient_message
    assert {r["reference"]: r["purged"] for r in outbox.quarantined()} == {old: True, kept: False}
    assert outbox.retry(old) is False  # nothing left to send

    # A real enquiry caught by mistake is released to the queue.
    assert outbox.retry(kept) is True
    assert kept in {e.reference for e in outbox.claim(now=time.time() + 5)}
    assert outbox.stats()["quarantined"] == 1  # the purged one is still counted and traceable


def test_purge_takes_an_explicit_now(outbox):
    put(outbox, quarantined=True, reason="honeypot")
    assert outbox.purge_quarantine(86400, now=time.time() + 2 * 86400) == 1


# ---------------------------------------------------------------- stats, schema, life cycle

def test_stats_counts_the_backlog_and_its_oldest_age(outbox):
    empty = {"backlog": 0, "oldest_undelivered_age_seconds": None, "failed": 0, "quarantined": 0, "delivered": 0}
    assert outbox.stats() == empty
    put(outbox, 1)
    put(outbox, 2)
    stats = outbox.stats(now=time.time() + 100)
    assert stats["backlog"] == 2
    assert 99 < stats["oldest_undelivered_age_seconds"] < 110
    assert isinstance(stats["backlog"], int)


def test_migrate_is_idempotent_and_keeps_what_is_stored(outbox, store):
    reference, message, _ = put(outbox)
    outbox.migrate()
    outbox.migrate()
    store.open().migrate()
    assert store.stored_message(reference) == message
    assert outbox.stats()["backlog"] == 1


def test_close_and_checkpoint_then_carry_on(outbox):
    reference, _, _ = put(outbox, 1)
    outbox.checkpoint()
    outbox.close()
    assert outbox.reference_for(f"sub-1-{reference}") == reference  # opens again when needed
    outbox.close()
    outbox.close()


def test_every_backend_raises_the_exceptions_the_web_half_catches():
    from formsvc.outbox import postgresql, sqlite

    for backend in (postgresql, sqlite):
        assert backend.OutboxUnavailable is OutboxUnavailable
        assert backend.ReferenceTaken is ReferenceTaken
        assert backend.StoredMessage is StoredMessage
