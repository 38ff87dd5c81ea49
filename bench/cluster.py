"""The outbox on PostgreSQL, end to end: submissions against SQLite, and two workers against one.

    .venv/bin/python -m bench.cluster [--rounds 3]        # or: make bench

Both measures are ratios of runs made back to back in the same run, so the
machine's other work disturbs both sides alike (rounds alternate which goes first;
the median of each round's ratio is the figure compared with the goal).

1. Submissions per second through gunicorn (docs/deploying.md's production command, 4 sync
   workers, production mode, Netlify signature, rate limits in a real Redis), the
   same clients as bench/submit.py, with the outbox in SQLite (``FORMSVC_DATABASE_URL``
   empty) and in a throwaway PostgreSQL (testsupport/postgres.py, fsync on, over TCP
   on 127.0.0.1). Goal: PostgreSQL at least 0.5 of SQLite's rate. Every POST must be
   confirmed and stored.
2. Delivery: a backlog of ``--backlog`` enquiries in PostgreSQL drained by one
   ``flask deliver`` worker, then (a fresh backlog) by two, with an SMTP server that
   takes 20 ms over each message (aiosmtpd over TCP). Messages per second from the
   first arrival to the last. Goal: two workers at least 1.5 times one. Every
   enquiry must arrive exactly once per worker run (no two workers send the same one).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import psycopg

from bench.submit import add_fill_argument, client_headers
from bench.submit import run as run_clients
from testsupport.answers import numbered_answers
from testsupport.forms import FormClient
from testsupport.hubmail import store
from testsupport.net import wait_for
from testsupport.postgres import PostgresCluster
from testsupport.processes import DeliveryWorker, Gunicorn, Redis, service_env
from testsupport.smtp import SMTPInbox, SMTPServer, SMTPSink

MAIL_FROM = "enquiries@rj.example"
HUB = "hub@hub.example"
SMTP_DELAY = 0.020  # seconds the relay takes over each message


class TimedInbox(SMTPInbox):
    """Keeps when each message was accepted, after the relay's delay."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(SMTP_DELAY)
        self.envelopes.append(envelope)
        self.times.append(time.monotonic())
        return "250 OK"


def pg_count(url: str, where: str = "true") -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM enquiries WHERE {where}").fetchone()[0]


def sqlite_count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM enquiries").fetchone()[0]


# ---------------------------------------------------------------- 1. submissions

def submissions(args, pg: PostgresCluster, tmp: Path) -> tuple[list[float], dict, list[str]]:
    secret = secrets.token_hex(32)
    limits = "100000 per minute;1000000 per hour"
    redis = Redis(tmp / "redis.log").start()
    sink = SMTPSink()
    started: list = [redis, sink]
    rates: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    problems: list[str] = []
    ratios: list[float] = []
    clients = SimpleNamespace(clients=args.clients, client_processes=args.client_processes,
                              per_client=args.per_client, trivial_per_client=0, fill_seconds=args.fill_seconds)
    try:
        for round_ in range(args.rounds):
            order = ["sqlite", "postgresql"] if round_ % 2 == 0 else ["postgresql", "sqlite"]
            this_round = {}
            for kind in order:
                data = tmp / f"{kind}-{round_}"
                url = pg.create_database(f"submit{round_}") if kind == "postgresql" else ""
                env = service_env(data, SMTP_PORT=str(sink.port), NETLIFY_SIGNING_SECRET=secret, PROXY_HOPS="1",
                                  RATELIMIT_STORAGE_URI=redis.url, RATELIMIT_POST=limits, DATABASE_URL=url,
                                  MIN_FILL_SECONDS=str(args.fill_seconds))
                web = Gunicorn(env, tmp / f"web-{kind}.log", workers=args.workers).start()
                worker = DeliveryWorker(env, tmp / f"worker-{kind}.log", interval=0.5).start()
                try:
                    warm = FormClient(web.port, headers=client_headers(250, 0), signing_secret=secret)
                    for _ in range(args.workers * 3):
                        warm.get_form()
                    warm.close()
                    result = run_clients(web.port, secret, clients, "submit")
                finally:
                    worker.stop()
                    web.stop()
                stored = pg_count(url) if url else sqlite_count(data / "outbox.sqlite3")
                confirmed = result["requests"] - result["failed"]
                if result["failed"] or not stored == confirmed == args.clients * args.per_client:
                    problems.append(f"{kind} round {round_ + 1}: {result['failed']} failed, "
                                    f"{confirmed} confirmed of {args.clients * args.per_client}, {stored} stored")
                this_round[kind] = result
                rates[kind].append(result["per_second"])
                print(f"  round {round_ + 1} {kind:<10} {result['per_second']:7.1f} submissions/s"
                      f"  p50 {result['p50']:.0f} ms  p99 {result['p99']:.0f} ms", flush=True)
            ratios.append(this_round["postgresql"]["per_second"] / this_round["sqlite"]["per_second"])
    finally:
        for thing in reversed(started):
            thing.stop()
    return ratios, rates, problems


# ---------------------------------------------------------------- 2. delivery

def drain(pg: PostgresCluster, tmp: Path, name: str, workers: int, backlog: int) -> tuple[float, list[str]]:
    from formsvc.outbox.postgresql import PostgreSQLOutbox

    url = pg.create_database(name)
    outbox = PostgreSQLOutbox(url)
    for i in range(backlog):
        store(outbox, numbered_answers(i), submission_id=f"{name}-{i:05d}", mail_from=MAIL_FROM, hub_inbox=HUB)
    outbox.close()
    smtp = SMTPServer()
    smtp.inbox = inbox = TimedInbox()
    smtp.controller.handler = inbox
    smtp.start()
    env = service_env(tmp / name, DATABASE_URL=url, SMTP_PORT=str(smtp.port), MAIL_FROM=MAIL_FROM, HUB_INBOX=HUB)
    # Started together: each takes its share as soon as it is up.
    running = [DeliveryWorker(env, tmp / f"{name}-{i}.log", interval=0.2).start() for i in range(workers)]
    problems = []
    try:
        wait_for(lambda: len(inbox.times) >= backlog, 300, "the backlog to drain")
        time.sleep(0.5)  # anything sent twice would arrive now
    finally:
        for worker in running:
            worker.stop()
        smtp.stop()
    references = [e.original_content.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0] for e in inbox.envelopes]
    if len(references) != backlog or len(set(references)) != backlog:
        problems.append(f"{name}: {len(references)} arrived, {len(set(references))} distinct, of {backlog}")
    undelivered = pg_count(url, "delivered_at IS NULL")
    if undelivered:
        problems.append(f"{name}: {undelivered} not marked delivered")
    return (backlog - 1) / (inbox.times[-1] - inbox.times[0]), problems


def delivery(args, pg: PostgresCluster, tmp: Path) -> tuple[list[float], dict, list[str]]:
    rates: dict[int, list[float]] = {1: [], 2: []}
    ratios, problems = [], []
    for round_ in range(args.rounds):
        order = [1, 2] if round_ % 2 == 0 else [2, 1]
        this_round = {}
        for workers in order:
            rate, found = drain(pg, tmp, f"deliver{round_}w{workers}", workers, args.backlog)
            problems += found
            this_round[workers] = rate
            rates[workers].append(rate)
            print(f"  round {round_ + 1} {workers} worker(s) {rate:7.1f} messages/s", flush=True)
        ratios.append(this_round[2] / this_round[1])
    return ratios, rates, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--per-client", type=int, default=30, help="submissions per client per run")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--backlog", type=int, default=300, help="enquiries per delivery run")
    add_fill_argument(parser)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    try:
        with PostgresCluster(settings={"max_connections": 100}) as pg:
            print("submissions through gunicorn, SQLite outbox and PostgreSQL outbox:")
            submit_ratios, submit_rates, problems = submissions(args, pg, tmp)
            print(f"delivery of {args.backlog} enquiries, SMTP taking {SMTP_DELAY * 1000:.0f} ms a message:")
            deliver_ratios, deliver_rates, found = delivery(args, pg, tmp)
            problems += found
            version = pg.bindir.parent.name
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"PostgreSQL {version}, {os.cpu_count()} CPUs, load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after; {args.rounds} rounds, medians")
    print(f"submissions/s: SQLite {statistics.median(submit_rates['sqlite']):.1f}, PostgreSQL "
          f"{statistics.median(submit_rates['postgresql']):.1f}; PostgreSQL / SQLite "
          f"{statistics.median(submit_ratios):.2f} (goal >= 0.5; per round "
          f"{', '.join(f'{r:.2f}' for r in submit_ratios)})")
    print(f"delivery messages/s: one worker {statistics.median(deliver_rates[1]):.1f}, two workers "
          f"{statistics.median(deliver_rates[2]):.1f}; two / one {statistics.median(deliver_ratios):.2f} "
          f"(goal >= 1.5; per round {', '.join(f'{r:.2f}' for r in deliver_ratios)})")
    print("checks: " + ("every submission confirmed and stored, every enquiry delivered once"
                        if not problems else "; ".join(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
