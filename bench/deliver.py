"""How fast the delivery worker drains a backlog, against plain smtplib.

    .venv/bin/python bench/deliver.py            # or: make bench

Queues 1,000 enquiries in an outbox (production settings), starts a local SMTP
server (aiosmtpd, in a process of its own so it never competes with the sender for
Python's GIL), then:

1. baseline: plain ``smtplib`` sends the very same 1,000 stored messages over one
   connection, nothing else;
2. the worker: ``formsvc.worker.run(app, once=True)``, the loop behind
   ``flask --app formsvc deliver --once``, drains the outbox: claim, send each stored
   message, mark delivered (message deleted, committed), checkpoint.

Each round uses a fresh outbox; rounds alternate which of the two goes first, and the
medians are printed: messages per second for both and the ratio (goal: the worker at
least half the raw rate). The SMTP server's count must match: every enquiry delivered
once.
"""
from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import smtplib
import statistics
import sys
import tempfile
import time
from pathlib import Path

from testsupport.answers import numbered_answers as answers
from testsupport.smtp import SMTPSink

MAIL_FROM = "enquiries@rj.example"
HUB = "hub@hub.example"


def one_round(n: int, port: int, tmp: Path, worker_first: bool) -> dict:
    """Fresh outbox with ``n`` enquiries; time the raw baseline and the worker on the same messages."""
    from formsvc import create_app
    from formsvc.accept import accept
    from formsvc.outbox import get_outbox
    from formsvc.transport import Envelope
    from formsvc.worker import run

    app = create_app({
        "ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATA_DIR": str(tmp),
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none",
        "MAIL_FROM": MAIL_FROM, "HUB_INBOX": HUB,
        # What is stored below is unsealed (accept's default): delivery sends bytes, whatever they
        # are; sealing's cost is measured by bench.seal and bench.sealing.
        "HUB_ENCRYPTION": "none",
    })
    outbox = get_outbox(app)
    for i in range(n):
        accept(outbox, answers(i), submission_id=f"bench-{i:06d}-{secrets.token_hex(4)}",
               mail_from=MAIL_FROM, hub_inbox=HUB)
    # The same stored messages for the baseline (then given back).
    batch = outbox.claim(limit=n)
    messages = [e.message for e in batch]
    outbox.release([e.id for e in batch])
    envelope = Envelope.of(MAIL_FROM, HUB)

    def raw() -> float:
        start = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            for data in messages:
                smtp.sendmail(envelope.sender, list(envelope.recipients), data)
        return time.perf_counter() - start

    def worker() -> tuple[float, dict]:
        start = time.perf_counter()
        totals = run(app, once=True, interval=0)
        return time.perf_counter() - start, totals

    if worker_first:
        (worker_seconds, totals), raw_seconds = worker(), raw()
    else:
        raw_seconds, (worker_seconds, totals) = raw(), worker()
    outbox.close()
    return {"raw": n / raw_seconds, "worker": n / worker_seconds, "totals": totals, "stats": outbox.stats()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds (raw and worker alternate which goes first); medians are reported")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="bench-deliver-"))
    # As `flask deliver` runs: INFO logging (one line per message), here to a file.
    logging.basicConfig(level=logging.INFO, filename=tmp / "worker.log",
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sink = SMTPSink()
    rounds = []
    try:
        for r in range(args.rounds):
            rounds.append(one_round(args.messages, sink.port, tmp / f"round{r}", worker_first=r % 2 == 1))
        received = sink.count()
    finally:
        sink.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    raw_rate = statistics.median(r["raw"] for r in rounds)
    worker_rate = statistics.median(r["worker"] for r in rounds)
    ratio = statistics.median(r["worker"] / r["raw"] for r in rounds)
    print(f"deliver benchmark: {args.messages} enquiries x {args.rounds} rounds, local aiosmtpd on 127.0.0.1 "
          f"(own process), {os.cpu_count()} CPUs; medians; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")
    print(f"plain smtplib, one connection, messages built beforehand: {raw_rate:8.1f} messages/s")
    print(f"worker (claim, build, send, mark delivered, checkpoint):  {worker_rate:8.1f} messages/s")
    print(f"worker / raw: {ratio:.2f}  (goal >= 0.5; per round: "
          + ", ".join(f"{r['worker'] / r['raw']:.2f}" for r in rounds) + ")")
    delivered = sum(r["totals"]["delivered"] for r in rounds)
    in_outboxes = sum(r["stats"]["delivered"] for r in rounds)
    print(f"checks: the server received {received} (= 2 x {args.rounds} x {args.messages} expected); the worker "
          f"delivered {delivered}, outboxes say {in_outboxes} delivered, "
          f"{sum(r['stats']['backlog'] for r in rounds)} left")
    expected = args.rounds * args.messages
    return 0 if received == 2 * expected and delivered == in_outboxes == expected else 1


if __name__ == "__main__":
    sys.exit(main())
