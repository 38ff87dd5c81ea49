"""Fault injection with real processes: what happens when the parts around us fail.

The delivery worker here is the real ``flask --app formsvc deliver`` process, the web
half the real gunicorn, rate limits a real ``redis-server`` started by the test, mail a
real aiosmtpd over TCP, reached through a proxy that misbehaves on demand. Processes
are killed with SIGKILL, not asked to stop.

The same situations are covered in-process, step by step, by test_worker.py (SMTP
down, 4xx, 5xx and the operator's CLI, a worker killed mid-run), test_transport.py
(reply codes, a dropped idle connection) and test_enquiry.py (a locked outbox gives
the 503 page); this file runs them as production runs them.
"""
from __future__ import annotations

import http.client
import os
import random
import re
import resource
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest

from formsvc.message import AcceptedEnquiry, build_message, message_bytes
from formsvc.outbox.sqlite import SQLiteOutbox
from formsvc.transport import Envelope, SMTPTransport
from testsupport import ROOT
from testsupport.answers import valid_answers
from testsupport.forms import FormClient
from testsupport.hubmail import store
from testsupport.net import free_port, wait_for
from testsupport.processes import DeliveryWorker, Gunicorn, Redis, service_env
from testsupport.smtp import SMTPServer, arrivals

MAIL_FROM = "enquiries@rj.example"
HUB = "hub@hub.example"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses /proc, process groups and rlimits")


# ---------------------------------------------------------------- a misbehaving SMTP relay

class FaultProxy:
    """A TCP proxy in front of a real SMTP server that fails on demand.

    Modes (``mode`` is read when a connection is accepted, ``set_mode`` changes it):
      pass        forward everything both ways
      refuse      nothing listening: connections are refused
      hang        accept, then never say anything (no greeting): the client's timeout must fire
      drop_data   hang up in the middle of the message text, before the final "."
      lose_reply  forward the whole message, then hang up before the server's "250"
                  reaches the client (the server has it; the client cannot know)
    """

    def __init__(self, target_port: int, mode: str = "pass"):
        self.port = free_port()
        self.target_port = target_port
        self.mode = "refuse"
        self.listener: socket.socket | None = None
        self.accepted = 0
        self._closed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self.set_mode(mode)

    def set_mode(self, mode: str) -> None:
        if mode == "refuse":
            self._stop_listening()
        elif self.listener is None:
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(16)
            self.listener = listener
            self._spawn(self._accept, listener)
        self.mode = mode

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _stop_listening(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def _accept(self, listener: socket.socket) -> None:
        while not self._closed.is_set():
            try:
                readable, _, _ = select.select([listener], [], [], 0.1)
                if not readable:
                    continue
                client, _ = listener.accept()
            except (OSError, ValueError):
                return  # stopped listening
            self.accepted += 1
            self._sockets.append(client)
            self._spawn(self._serve, client, self.mode)

    def _serve(self, client: socket.socket, mode: str) -> None:
        if mode == "hang":
            self._closed.wait()
            return
        server = socket.create_connection(("127.0.0.1", self.target_port))
        self._sockets.append(server)
        sent = b""  # what the client has sent so far (a few KB at most)
        in_message = swallow_reply = False
        try:
            while not self._closed.is_set():
                readable, _, _ = select.select([client, server], [], [], 0.1)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is server:
                        if swallow_reply:
                            return  # the "250" never reaches the client
                        client.sendall(data)
                        continue
                    if in_message and mode == "drop_data":
                        server.sendall(data[: len(data) // 2])
                        return  # hang up half way through the text
                    sent += data
                    server.sendall(data)
                    if re.search(rb"(^|\r\n)DATA\r\n$", sent, re.IGNORECASE):
                        in_message = True
                    elif in_message and sent.endswith(b"\r\n.\r\n") and mode == "lose_reply":
                        swallow_reply = True
        except OSError:
            return
        finally:
            for sock in (client, server):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self) -> None:
        self._closed.set()
        self._stop_listening()
        for thread in self._threads:
            thread.join(5)
        for sock in self._sockets:
            sock.close()


@pytest.fixture
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


def worker_env(data_dir: Path, smtp_port: int, **settings) -> dict[str, str]:
    # A short timeout and short retry waits, so a test takes seconds, not hours.
    quick = {"SMTP_TIMEOUT": "1", "DELIVER_BACKOFF_FIRST_SECONDS": "0.3", "OUTBOX_LEASE_SECONDS": "3"}
    return service_env(data_dir, SMTP_PORT=str(smtp_port), MAIL_FROM=MAIL_FROM, HUB_INBOX=HUB,
                       **{**quick, **settings})


def outbox_rows(path: Path) -> dict[str, dict]:
    conn = sqlite3.connect(path, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute("SELECT reference, submission_id, message_id, attempts, last_error, delivered_at,"
                            " failed_at, message FROM enquiries").fetchall()
    finally:
        conn.close()
    return {row["reference"]: dict(row) for row in rows}


def queue(data_dir: Path, count: int) -> tuple[SQLiteOutbox, list[str]]:
    outbox = SQLiteOutbox(data_dir / "outbox.sqlite3")
    refs = [store(outbox, valid_answers(message=f"Enquiry {i}\nwith two lines"), submission_id=f"fault-{i:04d}",
                  mail_from=MAIL_FROM, hub_inbox=HUB) for i in range(count)]
    return outbox, refs


# ---------------------------------------------------------------- SMTP faults, real worker process

SMTP_FAULTS = {
    # name: (proxy mode, server reply while failing, what the worker records)
    "refusing connections": ("refuse", None, {"ConnectionRefusedError"}),
    "accepting but never answering": ("hang", None, {"TimeoutError"}),
    "answering 4xx": ("pass", "451 4.3.0 Mailbox busy, try again", {"SMTP 451 4.3.0"}),
    "dropping the line mid-DATA": ("drop_data", None, {"SMTPServerDisconnected"}),
    "losing its 250 after taking the message": ("lose_reply", None, {"SMTPServerDisconnected"}),
}


@pytest.mark.parametrize("fault", SMTP_FAULTS)
def test_every_accepted_enquiry_is_delivered_once_smtp_recovers(fault, tmp_path, smtp, processes):
    mode, reply, errors = SMTP_FAULTS[fault]
    data = tmp_path / "data"
    outbox, refs = queue(data, 4)
    proxy = FaultProxy(smtp.port, mode)
    if reply:
        smtp.inbox.reply = reply
    try:
        started = time.monotonic()
        processes.add(DeliveryWorker(worker_env(data, proxy.port), tmp_path / "worker.log", interval=0.1).start())

        # The fault is met: every enquiry was tried, none is counted as delivered.
        def all_tried():
            rows = outbox_rows(outbox.path).values()
            return all(r["attempts"] >= 1 and r["last_error"] for r in rows) and rows
        rows = wait_for(all_tried, 30, "every enquiry to be tried")
        assert not any(r["delivered_at"] or r["failed_at"] for r in rows)
        assert {r["last_error"] for r in rows} == errors
        if mode == "hang":
            # The transport's 1 s timeout fired: the worker did not wait for ever on the silent server.
            assert time.monotonic() - started < 15 and proxy.accepted >= 1
        if mode != "lose_reply":
            assert smtp.inbox.envelopes == []

        # The relay recovers.
        smtp.inbox.reply = "250 OK"
        proxy.set_mode("pass")
        wait_for(lambda: outbox.stats()["backlog"] == 0, 30, "the backlog to drain")
    finally:
        proxy.close()

    rows = outbox_rows(outbox.path)
    seen = arrivals(smtp)
    assert set(seen) == set(refs)
    for ref, ids in seen.items():
        assert set(ids) == {rows[ref]["message_id"]}, ref  # any resend is recognisably the same message
        if mode == "lose_reply":
            # Each attempt reached the hub; the worker could not know. Nothing more, nothing less.
            assert len(ids) == rows[ref]["attempts"] >= 2, ref
        else:
            assert len(ids) == 1, ref
        assert rows[ref]["message"] is None  # delivered: the message is gone from the outbox
    assert outbox.stats() == {**outbox.stats(), "backlog": 0, "failed": 0, "delivered": len(refs)}


def test_a_5xx_is_kept_for_an_operator_not_retried_and_sent_when_released(tmp_path, smtp, processes):
    data = tmp_path / "data"
    outbox, refs = queue(data, 2)
    smtp.inbox.reply = "550 5.7.1 Message rejected by policy"
    env = worker_env(data, smtp.port)
    worker = processes.add(DeliveryWorker(env, tmp_path / "worker.log", interval=0.1).start())
    wait_for(lambda: outbox.stats()["failed"] == 2, 30, "both to fail permanently")
    # The worker gives the CPU to the web workers first (it runs niced).
    assert os.getpriority(os.PRIO_PROCESS, worker.pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
    time.sleep(1.5)  # several rounds of the worker, and several backoff periods
    rows = outbox_rows(outbox.path)
    assert all(r["attempts"] == 1 and r["last_error"] == "SMTP 550 5.7.1" for r in rows.values())
    assert all(r["message"] for r in rows.values())  # kept, with the message, for a person to look at
    assert smtp.inbox.envelopes == []

    # The operator's listing (a separate process, as they would run it) names them, nothing personal.
    cli = [sys.executable, "-m", "flask", "--app", "formsvc", "outbox"]
    listing = subprocess.run([*cli, "list"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert all(ref in listing.stdout for ref in refs) and "Enquiry 0" not in listing.stdout
    # The cause is fixed; the operator sends them again.
    smtp.inbox.reply = "250 OK"
    for ref in refs:
        retry = subprocess.run([*cli, "retry", ref], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert retry.returncode == 0, retry.stderr
    wait_for(lambda: outbox.stats()["delivered"] == 2, 30, "the released enquiries to be delivered")
    assert {ref: len(ids) for ref, ids in arrivals(smtp).items()} == {ref: 1 for ref in refs}


def test_a_connection_the_relay_closed_while_idle_is_reopened_without_a_failure(answers):
    # The relay times out idle clients (aiosmtpd's timeout: "421", then it hangs up). The
    # transport notices before reusing the connection, without a NOOP round trip.
    server = SMTPServer(timeout=0.5).start()
    try:
        enquiry = AcceptedEnquiry(reference="RJ-7K2M9QDX", message_id="<one@rj.example>", created_at=time.time(),
                          answers=answers())
        data = message_bytes(build_message(enquiry, mail_from=MAIL_FROM, hub_inbox=HUB))
        envelope = Envelope.of(MAIL_FROM, HUB)
        with SMTPTransport(server.host, server.port, security="none", timeout=5) as transport:
            transport.send(data, envelope)
            time.sleep(1.2)  # the server has said 421 and closed
            transport.send(data, envelope)  # no exception: a fresh connection
        assert len(server.inbox.envelopes) == 2
    finally:
        server.stop()


# ---------------------------------------------------------------- SIGKILL during a run of submissions

def submitter(port: int, number: int, stop: threading.Event, confirmed: list, attempts: list,
              problems: list) -> None:
    try:
        send_one_after_another(port, number, stop, confirmed, attempts)
    except BaseException as exc:  # a thread's failure must fail the test, not vanish
        problems.append(repr(exc))


def send_one_after_another(port: int, number: int, stop: threading.Event, confirmed: list, attempts: list) -> None:
    """One person after another sends an enquiry; a cut-off send is sent again, as people do."""
    n = 0
    while not stop.is_set():
        n += 1
        browser = FormClient(port, timeout=10)
        text = valid_answers(message=f"Submitter {number}, enquiry {n}.\nPlease call.")
        hidden = None
        deadline = time.monotonic() + 30
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                if hidden is None:
                    hidden = browser.get_form()
                status, headers, _ = browser.post_form(hidden, text)
                attempts.append(status)
                if status == 303:
                    reference = browser.confirmation()
                    if reference:
                        confirmed.append(reference)
                        break
                else:
                    raise AssertionError(f"the form answered {status}")
            except (OSError, http.client.HTTPException):
                attempts.append("connection error")
            time.sleep(0.05)  # the server is restarting: try the same page again
        browser.close()


def test_killing_web_and_worker_processes_loses_no_confirmed_enquiry(tmp_path, smtp, processes):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    print(f"random seed {seed}")
    smtp.inbox.delay = 0.02  # a relay that takes its time, so kills land mid-conversation
    data = tmp_path / "data"
    env = worker_env(data, smtp.port, MIN_FILL_SECONDS="0", RATELIMIT_POST="100000 per minute",
                     RATELIMIT_INVALID_POST="100000 per minute",
                     SMTP_TIMEOUT="5")
    web = processes.add(Gunicorn(env, tmp_path / "web.log", workers=2).start())
    port = web.port
    worker = processes.add(DeliveryWorker(env, tmp_path / "worker.log", interval=0.1).start())

    stop = threading.Event()
    confirmed: list[str] = []
    attempts: list = []
    problems: list[str] = []
    people = [threading.Thread(target=submitter, args=(port, i, stop, confirmed, attempts, problems))
              for i in range(3)]
    for person in people:
        person.start()
    kills = defaultdict(int)
    try:
        # Every kind of kill at least twice, in a random order, at random moments.
        plan = ["gunicorn worker", "whole gunicorn", "delivery worker"] * 2
        rng.shuffle(plan)
        for victim in plan:
            time.sleep(rng.uniform(0.3, 1.5))
            if victim == "gunicorn worker":
                pids = web.worker_pids()
                if pids:
                    try:
                        os.kill(rng.choice(pids), signal.SIGKILL)  # the master starts a new one
                    except ProcessLookupError:
                        pass
            elif victim == "whole gunicorn":
                web.kill()  # master and workers, at once
                web = processes.add(Gunicorn(env, tmp_path / "web.log", workers=2, port=port).start())
            else:
                worker.kill()
                worker = processes.add(DeliveryWorker(env, tmp_path / "worker.log", interval=0.1).start())
            kills[victim] += 1
        time.sleep(1)
    finally:
        stop.set()
        for person in people:
            person.join(60)

    outbox = SQLiteOutbox(data / "outbox.sqlite3")
    wait_for(lambda: outbox.stats()["backlog"] == 0, 60, "every stored enquiry to be delivered")
    rows = outbox_rows(outbox.path)
    seen = arrivals(smtp)

    print(f"kills {dict(kills)}; {len(confirmed)} confirmed, {len(rows)} stored, {len(seen)} arrived, "
          f"{sum(len(v) - 1 for v in seen.values())} resent copies; answers: "
          f"{sorted((str(a), attempts.count(a)) for a in set(attempts))}")
    assert problems == []
    assert len(confirmed) >= 10, "too few submissions to prove anything"
    assert all(kills[v] >= 2 for v in ("gunicorn worker", "whole gunicorn", "delivery worker")), kills
    # Every enquiry that got a confirmation arrived...
    assert set(confirmed) <= set(seen)
    # ...and so did everything that was stored (stored but never confirmed: the page was cut off).
    assert set(seen) == set(rows)
    for ref, ids in seen.items():
        # None arrives twice with a different Message-ID: a resend is the same message.
        assert set(ids) == {rows[ref]["message_id"]}, (ref, ids)
    # A page sent again after a cut-off is the same enquiry, not a second one.
    assert len(confirmed) == len(set(confirmed))


# ---------------------------------------------------------------- rate limits in a real Redis

def pids_per_status(log: Path) -> dict[int, set[str]]:
    """From gunicorn's access log (pid=... "POST /enquiry/ ..." status): which worker answered what."""
    found: dict[int, set[str]] = defaultdict(set)
    for pid, status in re.findall(r'pid=<?(\d+)>? "POST /enquiry/ [^"]*" (\d{3})', log.read_text()):
        found[int(status)].add(pid)
    return found


def post_at_once(port: int, count: int, first: int) -> list[int]:
    """``count`` people's posts arriving together (each with their own form and cookie, one address)."""
    browsers = [FormClient(port) for _ in range(count)]
    forms = [browser.get_form() for browser in browsers]
    statuses: list[int] = [0] * count
    go = threading.Barrier(count)

    def send(i: int) -> None:
        go.wait()
        statuses[i] = browsers[i].post_form(forms[i], valid_answers(message=f"Limit test {first + i}"))[0]

    threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for browser in browsers:
        browser.close()
    return statuses


def test_the_limit_holds_across_workers_and_survives_redis_going_away(tmp_path, processes):
    redis = processes.add(Redis(tmp_path / "redis.log").start())
    env = service_env(tmp_path / "data", RATELIMIT_STORAGE_URI=redis.url, RATELIMIT_POST="3 per hour",
                      MIN_FILL_SECONDS="0")
    web = processes.add(Gunicorn(env, tmp_path / "web.log", workers=2).start())

    # Posts arriving together, so both workers answer some (gunicorn's log names the pid).
    statuses = []
    for round_ in range(5):
        statuses += post_at_once(web.port, 8, first=8 * round_)
        by_status = pids_per_status(tmp_path / "web.log")
        if len(by_status[303] | by_status[429]) == 2:
            break
    assert len(by_status[303] | by_status[429]) == 2, "both workers should have answered posts"
    # Three per client address in all, whichever worker answered: the count is shared in Redis.
    assert statuses.count(303) == 3 and statuses.count(429) == len(statuses) - 3, statuses

    # Redis goes away mid-run (killed, no goodbye).
    redis.kill()
    after = post_at_once(web.port, 8, first=100) + post_at_once(web.port, 8, first=200)
    assert set(after) <= {303, 429}, after  # never a 500: each worker falls back to its own memory
    assert 303 in after  # enquiries are still taken
    # The fallback still limits, per worker process: at most 3 more in each.
    assert after.count(303) <= 3 * 2, after
    browser = FormClient(web.port)
    assert browser.request("GET", "/enquiry/")[0] == 200
    assert browser.request("GET", "/healthz")[0] == 200
    browser.close()
    assert "Traceback" not in web.output()


def test_a_redis_that_stops_answering_does_not_hang_the_form(tmp_path, processes):
    redis = processes.add(Redis(tmp_path / "redis.log").start())
    env = service_env(tmp_path / "data", RATELIMIT_STORAGE_URI=redis.url, RATELIMIT_POST="100 per hour",
                      MIN_FILL_SECONDS="0")
    web = processes.add(Gunicorn(env, tmp_path / "web.log", workers=1).start())
    browser = FormClient(web.port, timeout=20)
    hidden = browser.get_form()
    redis.popen.send_signal(signal.SIGSTOP)  # alive, connected, silent
    try:
        started = time.monotonic()
        status, _, _ = browser.post_form(hidden, valid_answers())
        took = time.monotonic() - started
    finally:
        redis.popen.send_signal(signal.SIGCONT)
    assert status == 303
    print(f"post with a silent Redis took {took:.2f} s")
    assert took < 5, f"a silent Redis held the person's post for {took:.1f} s"
    browser.close()


# ---------------------------------------------------------------- the outbox's disk is full

def file_size_limit(max_bytes: int):
    def limit():
        # Writes past max_bytes fail with EFBIG (SIGXFSZ ignored, so the process lives on).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
    return limit


def test_a_full_disk_shows_the_could_not_take_it_page_and_leaves_nothing_half_written(tmp_path, processes):
    data = tmp_path / "data"
    env = service_env(data, MIN_FILL_SECONDS="0", RATELIMIT_ENABLED="false")
    # No file the web process writes may grow past 160 KB: the outbox's write-ahead log
    # fills up after some enquiries, exactly as a full disk would stop it.
    web = processes.add(Gunicorn(env, tmp_path / "web.log", workers=1,
                                 preexec_fn=file_size_limit(160 * 1024)).start())
    confirmed, refused = [], None
    for n in range(200):
        browser = FormClient(web.port)
        hidden = browser.get_form()
        text = valid_answers(message=f"Disk test {n}: " + "words " * 200)
        status, _, body = browser.post_form(hidden, text)
        if status == 303:
            confirmed.append(browser.confirmation())
            browser.close()
            continue
        refused = (browser, hidden, text, status, body.decode())
        break
    assert refused, "the limit was never reached"
    print(f"{len(confirmed)} enquiries stored before the disk was full")
    browser, hidden, text, status, page = refused
    assert status == 503 and len(confirmed) >= 1
    assert "Sorry, we could not take your enquiry" in page and "Nothing has been sent" in page
    assert "Please try again" in page and "read the warning further down this page" in page
    assert "If you are in danger now:" in page and "999" in page
    assert f"Disk test {len(confirmed)}" in page  # what they wrote is still on the page

    # Nothing half-written: the database is sound and holds exactly the confirmed enquiries.
    check = sqlite3.connect(data / "outbox.sqlite3")
    try:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = {ref for (ref,) in check.execute("SELECT reference FROM enquiries")}
        assert stored == set(confirmed)
        assert check.execute("SELECT COUNT(*) FROM enquiries WHERE CAST(message AS TEXT) LIKE ?",
                             (f"%Disk test {len(confirmed)}:%",)).fetchone() == (0,)
    finally:
        check.close()

    # Space is freed (the service restarts without the limit): the same page, sent again, is taken once.
    web.kill()
    web = processes.add(Gunicorn(env, tmp_path / "web.log", workers=1, port=web.port).start())
    status, _, _ = browser.post_form(hidden, text)
    assert status == 303
    reference = browser.confirmation()
    status, _, _ = browser.post_form(hidden, text)  # and a double click is still one enquiry
    assert status == 303 and browser.confirmation() == reference
    rows = outbox_rows(data / "outbox.sqlite3")
    assert set(rows) == set(confirmed) | {reference}
    browser.close()
