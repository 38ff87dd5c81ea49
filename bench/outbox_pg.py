"""Adds per second: the outbox on PostgreSQL against the SQLite outbox, on this machine, in one run.

    .venv/bin/python -m bench.outbox_pg [--adds 400] [--rounds 3] [--clients 1,4]

The outbox alone, without the web half around it: bench/cluster.py measures the
goals end to end (submissions through gunicorn, two workers against one).

Both stores commit durably before ``add`` returns, on the same disk: SQLite in WAL
with ``synchronous=FULL`` (formsvc/outbox/sqlite.py), PostgreSQL a throwaway cluster
(testsupport/postgres.py) with its defaults (fsync on, ``synchronous_commit=on``),
over TCP on 127.0.0.1 through the backend's pool, as a web instance reaches it.
Each client is a process of its own (as gunicorn's workers are); all clients start
at the same moment and each adds its share. Each message is about the size of a
sealed enquiry. Rounds alternate which store goes first; medians are printed.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MESSAGE_BYTES = 3000  # an S/MIME- or OpenPGP-sealed enquiry is a few KB

CLIENT = r"""
import json, os, secrets, sys, time
from email.utils import make_msgid
kind, target, count, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
tag = secrets.token_hex(4)
if kind == "postgresql":
    from formsvc.outbox import new_reference
    from formsvc.outbox.postgresql import PostgreSQLOutbox
    outbox = PostgreSQLOutbox(target)
    outbox.reference_for("warm-up")  # schema checked, pool connected: not part of the timing
    def add(i):
        outbox.add(os.urandom(%(size)d), reference=new_reference(), message_id=make_msgid(domain="rj.example"),
                   submission_id=f"{tag}-{i}")
else:
    from formsvc.outbox import new_reference
    from formsvc.outbox.sqlite import SQLiteOutbox
    outbox = SQLiteOutbox(target)
    outbox.stats()
    def add(i):
        outbox.add(os.urandom(%(size)d), reference=new_reference(), message_id=make_msgid(domain="rj.example"),
                   submission_id=f"{tag}-{i}")
while time.time() < start:
    time.sleep(0.001)
began = time.perf_counter()
for i in range(count):
    add(i)
print(json.dumps({"elapsed": time.perf_counter() - began}))
outbox.close()
""" % {"size": MESSAGE_BYTES}


def run_clients(kind: str, target: str, adds: int, clients: int) -> float:
    """``clients`` processes add ``adds`` enquiries between them; returns adds per second."""
    share = adds // clients
    start = time.time() + 3.0  # every client imported and connected before the start
    procs = [subprocess.Popen([sys.executable, "-c", CLIENT, kind, target, str(share), str(start)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(clients)]
    elapsed = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"{kind} client failed:\n{err}")
        elapsed.append(json.loads(out)["elapsed"])
    # Wall time of the whole burst: from the common start to the last client's end.
    return share * clients / max(elapsed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--adds", type=int, default=400, help="enquiries added per store per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", default="1,4", help="comma-separated numbers of concurrent clients")
    args = parser.parse_args()

    from bench.cluster import pg_count, sqlite_count
    from testsupport.postgres import PostgresCluster

    results: dict[tuple[str, int], list[float]] = {}
    problems: list[str] = []
    with PostgresCluster() as pg, tempfile.TemporaryDirectory(prefix="bench-sqlite-") as tmp:
        counter = 0
        for clients in [int(c) for c in args.clients.split(",")]:
            for round_no in range(args.rounds):
                counter += 1
                pg_url = pg.create_database(f"bench{counter}")
                sqlite_path = os.path.join(tmp, f"outbox{counter}.sqlite3")
                order = ["sqlite", "postgresql"] if round_no % 2 == 0 else ["postgresql", "sqlite"]
                for kind in order:
                    target = pg_url if kind == "postgresql" else sqlite_path
                    rate = run_clients(kind, target, args.adds, clients)
                    # Every add is durable and counted: a run that stored nothing or lost one fails.
                    added = args.adds // clients * clients
                    stored = pg_count(target) if kind == "postgresql" else sqlite_count(Path(target))
                    if not stored == added > 0:
                        problems.append(f"round {round_no + 1}, {clients} client(s), {kind}: {stored} stored of "
                                        f"{added} added")
                    results.setdefault((kind, clients), []).append(rate)
                    print(f"  round {round_no + 1}, {clients} client(s), {kind:<10}: {rate:8.1f} adds/s", flush=True)
        print(f"\nPostgreSQL {pg.bindir.parent.name}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f};"
              f" {args.adds} adds per store per round, {args.rounds} rounds, medians:")
        for clients in sorted({c for _, c in results}):
            sqlite = statistics.median(results[("sqlite", clients)])
            postgres = statistics.median(results[("postgresql", clients)])
            # Each round's two runs were back to back: their ratio is the least disturbed by
            # the machine's other work, so that is the one compared with the goal.
            paired = statistics.median(p / s for p, s in zip(results[("postgresql", clients)],
                                                              results[("sqlite", clients)]))
            print(f"  {clients} client(s): SQLite {sqlite:8.1f} adds/s   PostgreSQL {postgres:8.1f} adds/s"
                  f"   ratio PostgreSQL/SQLite {paired:.2f} (median of rounds; goal >= 0.5)")
    print("checks: " + ("every add stored in both stores" if not problems else "; ".join(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
