"""Fault injection with the outbox on PostgreSQL (FORMSVC_DATABASE_URL), as production runs it.

Real processes throughout: a throwaway PostgreSQL cluster of its own per test (the
tests stop and restart it), gunicorn instances and ``flask deliver`` workers sharing
it, and aiosmtpd over TCP as the hub's relay. Processes are killed with SIGKILL.

What must hold, whatever happens: every enquiry the service confirmed arrives, and
each arrives with exactly one distinct Message-ID (a resend after a lost reply may
repeat that Message-ID; it is the same message). While the database is down, a
person gets the 503 page with their words kept (never a 500), ``/healthz`` says the
outbox is unreachable, and the workers back off.

The outbox's own faults (a session cut mid-INSERT, a silent server, statement
timeouts, concurrent migrations) are tested closer in, in test_outbox_postgresql.py.
"""
from __future__ import annotations

import html
import http.client
import json
import re
import sys
import threading
import time

import psycopg
import pytest

from testsupport.answers import valid_answers
from testsupport.forms import FormClient
from testsupport.net import wait_for
from testsupport.processes import DeliveryWorker, Gunicorn, service_env
from testsupport.smtp import SMTPServer, arrivals

MAIL_FROM = "enquiries@rj.example"
HUB = "hub@hub.example"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses process groups")


@pytest.fixture
def cluster(new_postgres):
    return new_postgres(max_connections=100).start()


@pytest.fixture
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


def stack_env(tmp_path, database_url: str, smtp_port: int, **settings) -> dict[str, str]:
    """One environment for every instance and worker: the same SECRET_KEY (a form served
    by one instance is posted to another) and the same database."""
    quick = {"SMTP_TIMEOUT": "5", "DELIVER_BACKOFF_FIRST_SECONDS": "0.3", "OUTBOX_LEASE_SECONDS": "3",
             "MIN_FILL_SECONDS": "0", "RATELIMIT_ENABLED": "false"}
    return service_env(tmp_path / "data", DATABASE_URL=database_url, SMTP_PORT=str(smtp_port),
                       MAIL_FROM=MAIL_FROM, HUB_INBOX=HUB, **{**quick, **settings})


def stored_rows(url: str) -> dict[str, dict]:
    with psycopg.connect(url, connect_timeout=10) as conn:
        cur = conn.execute("SELECT reference, message_id, delivered_at FROM enquiries")
        return {ref: {"message_id": mid, "delivered_at": at} for ref, mid, at in cur.fetchall()}


def backlog(url: str) -> int:
    with psycopg.connect(url, connect_timeout=10) as conn:
        return conn.execute("SELECT count(*) FROM enquiries WHERE delivered_at IS NULL").fetchone()[0]


def assert_nothing_lost(url: str, smtp: SMTPServer, confirmed: list[str]) -> dict[str, list[str]]:
    """Every confirmed enquiry arrived; everything stored arrived; one distinct Message-ID each."""
    wait_for(lambda: backlog(url) == 0, 90, "every stored enquiry to be delivered")
    rows, seen = stored_rows(url), arrivals(smtp)
    assert set(confirmed) <= set(seen), sorted(set(confirmed) - set(seen))
    assert set(seen) == set(rows)
    for reference, message_ids in seen.items():
        assert set(message_ids) == {rows[reference]["message_id"]}, (reference, message_ids)
    return seen


class Person:
    """Someone sending the form to one instance, pressing Send again on the page they get
    back (a 503, a connection error) until they see their reference."""

    def __init__(self, port: int, n: int):
        self.port, self.n = port, n
        self.statuses: list = []

    def send(self, deadline: float) -> str | None:
        browser = FormClient(self.port, timeout=30)
        answers = valid_answers(message=f"Enquiry {self.n} sent during a fault")
        hidden = None
        try:
            while time.monotonic() < deadline:
                try:
                    if hidden is None:
                        hidden = browser.get_form()
                    status, _, body = browser.post_form(hidden, answers)
                    self.statuses.append(status)
                    if status == 303:
                        return browser.confirmation()
                    if status != 503:
                        raise AssertionError(f"the form answered {status}")
                    # The 503 page keeps their words, so Send again posts the same enquiry.
                    assert html.escape(answers["message"]) in body.decode()
                except (OSError, http.client.HTTPException) as exc:
                    self.statuses.append(type(exc).__name__)
                time.sleep(0.2)
            return None
        finally:
            browser.close()


def send_all(people: list[Person], deadline: float, confirmed: list[str], problems: list[str]) -> list:
    def run(person: Person) -> None:
        try:
            reference = person.send(deadline)
            if reference is None:
                problems.append(f"person {person.n} never got a confirmation: {person.statuses}")
            else:
                confirmed.append(reference)
        except BaseException as exc:  # a thread's failure must fail the test
            problems.append(f"person {person.n}: {exc!r}")

    threads = [threading.Thread(target=run, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    return threads


# ---------------------------------------------------------------- the database unreachable

def test_with_postgresql_stopped_people_get_the_503_page_health_says_so_and_workers_back_off(
        tmp_path, cluster, smtp, processes):
    url = cluster.create_database("outbox")
    env = stack_env(tmp_path, url, smtp.port)
    web = processes.add(Gunicorn(env, tmp_path / "web.log", workers=2).start())
    worker = processes.add(DeliveryWorker(env, tmp_path / "worker.log", interval=0.2).start())
    before = Person(web.port, 0).send(time.monotonic() + 30)
    assert before is not None

    cluster.stop("fast")
    browser = FormClient(web.port)
    hidden = browser.get_form()  # the form page itself needs no database
    answers = valid_answers(message="Written while the database was down. Please keep this.")
    started = time.monotonic()
    status, headers, body = browser.post_form(hidden, answers)
    took = time.monotonic() - started
    assert status == 503, body[:500]
    assert html.escape(answers["message"]) in body.decode()  # their words, kept in the form
    assert headers.get("retry-after")
    assert took < 10, f"a request waited {took:.1f} s for the database"

    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
    started = time.monotonic()
    conn.request("GET", "/healthz")
    health = conn.getresponse()
    assert health.status == 503
    assert json.loads(health.read()) == {"status": "unavailable", "outbox": "unreachable"}
    assert time.monotonic() - started < 10
    conn.close()

    # The worker waits longer each time it finds the database still down.
    wait_for(lambda: len(re.findall(r"outbox unavailable .*trying again in", worker.output())) >= 4, 60,
             "the worker to look a few times")
    waits = [float(w) for w in re.findall(r"outbox unavailable .*trying again in ([\d.]+) s", worker.output())]
    assert waits[:4] == sorted(waits[:4]) and waits[3] >= 4 * waits[0], waits

    cluster.start()
    # Send again, from the page they were given: it is taken now, and delivered.
    deadline = time.monotonic() + 30
    while (status := browser.post_form(hidden, answers)[0]) == 503 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert status == 303
    reference = browser.confirmation()
    browser.close()
    seen = assert_nothing_lost(url, smtp, [before, reference])
    assert set(seen) == {before, reference}
    assert "500" not in {str(s) for s in re.findall(r'"POST /enquiry/ [^"]*" (\d{3})', web.output())}


# ---------------------------------------------------------------- several instances and workers

def two_of_each(tmp_path, processes, env):
    webs = [processes.add(Gunicorn(env, tmp_path / f"web{i}.log", workers=2).start()) for i in (1, 2)]
    workers = [processes.add(DeliveryWorker(env, tmp_path / f"worker{i}.log", interval=0.1).start()) for i in (1, 2)]
    return webs, workers


def test_sigkill_of_one_of_two_workers_during_a_burst_loses_nothing(tmp_path, cluster, smtp, processes):
    url = cluster.create_database("outbox")
    smtp.inbox.delay = 0.05  # a relay that takes its time, so the kill lands mid-batch
    env = stack_env(tmp_path, url, smtp.port)
    webs, workers = two_of_each(tmp_path, processes, env)

    confirmed, problems = [], []
    people = [Person(webs[n % 2].port, n) for n in range(40)]
    threads = send_all(people, time.monotonic() + 120, confirmed, problems)
    wait_for(lambda: len(smtp.inbox.envelopes) >= 5, 60, "deliveries to be under way")
    workers[0].kill()  # SIGKILL mid-batch: its leased enquiries come back after the lease
    for thread in threads:
        thread.join(150)
    assert problems == []
    assert len(confirmed) == 40
    seen = assert_nothing_lost(url, smtp, confirmed)
    assert len(seen) == 40
    assert workers[1].running()


def test_postgresql_restarted_during_submissions_loses_nothing(tmp_path, cluster, smtp, processes):
    url = cluster.create_database("outbox")
    env = stack_env(tmp_path, url, smtp.port)
    webs, _ = two_of_each(tmp_path, processes, env)

    confirmed, problems = [], []
    people = [Person(webs[n % 2].port, n) for n in range(30)]
    threads = send_all(people[:10], time.monotonic() + 120, confirmed, problems)
    time.sleep(1)
    cluster.restart("fast")  # sessions ended under the service's feet
    threads += send_all(people[10:20], time.monotonic() + 120, confirmed, problems)
    time.sleep(0.5)
    cluster.stop("immediate")  # a crash: the next start replays the WAL
    time.sleep(1)
    cluster.start()
    threads += send_all(people[20:], time.monotonic() + 120, confirmed, problems)
    for thread in threads:
        thread.join(150)
    assert problems == []
    assert len(confirmed) == 30 and len(set(confirmed)) == 30
    assert_nothing_lost(url, smtp, confirmed)
    statuses = [s for person in people for s in person.statuses]
    assert 500 not in statuses


def test_two_instances_receiving_the_same_double_submission_store_one_enquiry(tmp_path, cluster, smtp, processes):
    url = cluster.create_database("outbox")
    env = stack_env(tmp_path, url, smtp.port)
    webs, _ = two_of_each(tmp_path, processes, env)

    for round_ in range(5):
        # One form page, its Send pressed twice, the two posts reaching different instances at once.
        first = FormClient(webs[0].port)
        hidden = first.get_form()
        second = FormClient(webs[1].port)
        second.cookies = dict(first.cookies)
        answers = valid_answers(message=f"Double click number {round_}")
        results = [None, None]
        go = threading.Barrier(2)

        def post(i, browser):
            go.wait()
            results[i] = browser.post_form(hidden, answers)[0], browser

        threads = [threading.Thread(target=post, args=(i, b)) for i, b in enumerate((first, second))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert [status for status, _ in results] == [303, 303]
        references = {browser.confirmation() for _, browser in results}
        assert len(references) == 1 and None not in references, references
        first.close()
        second.close()

    seen = assert_nothing_lost(url, smtp, [])
    assert len(seen) == 5  # five enquiries, not ten
    assert all(len(ids) == 1 for ids in seen.values())

