"""Submissions per second with sealing on (S/MIME, OpenPGP) against sealing off, in the same run.

    .venv/bin/python -m bench.sealing            # or: make bench

Three gunicorn servers, identical but for FORMSVC_HUB_ENCRYPTION (none, smime to an
openssl-made RSA certificate, openpgp to a gpg-made key), each with its own outbox and
in-memory rate limits raised out of the way. The same simulated people (bench/submit.py's
clients: GET the form, wait, POST it the way a browser behind Netlify does) send to each
in turn, round after round, so the machine's noise falls on all three alike. Printed: the
median submissions per second of each, and sealed / unsealed per round. Goal: >= 0.8.
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import tempfile
from pathlib import Path

from bench.submit import TRIVIAL_PATH, add_fill_argument, client_headers, median_of, row, run, stored
from testsupport.forms import FormClient
from testsupport.keys import export_public, openpgp_key, smime_certificate, stop_agent
from testsupport.processes import Gunicorn, service_env
from testsupport.smtp import SMTPSink

#: How each server's stored messages must look: sealed the way it was told, or not at all
#: (instr on the bytes: SQLite's LIKE does not look inside a BLOB).
SMIME = "CAST('Content-Type: application/pkcs7-mime' AS BLOB)"
OPENPGP = "CAST('Content-Type: multipart/encrypted' AS BLOB)"
STORED_AS = {
    "none": f"NOT instr(message, {SMIME}) AND NOT instr(message, {OPENPGP})",
    "smime": f"instr(message, {SMIME})",
    "openpgp": f"instr(message, {OPENPGP})",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--per-client", type=int, default=40, help="submissions per client per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers per server")
    add_fill_argument(parser)
    args = parser.parse_args()
    args.trivial_per_client = 0

    tmp = Path(tempfile.mkdtemp(prefix="bench-sealing-"))
    secret = secrets.token_hex(32)
    cert, _ = smime_certificate(tmp / "keys")
    home = tmp / "gnupg"
    openpgp_key(home, algo="ed25519", usage="sign")  # a primary for signing; the encryption subkey below
    from testsupport.keys import fingerprint, gpg

    gpg(home, "--quick-add-key", fingerprint(home), "cv25519", "encr", "never")
    keys = tmp / "hub.asc"
    keys.write_bytes(export_public(home))
    stop_agent(home)

    methods = {"none": {}, "smime": {"HUB_SMIME_CERTIFICATES": str(cert)},
               "openpgp": {"HUB_OPENPGP_KEYS": str(keys)}}
    load_before = os.getloadavg()[0]
    started, servers, results = [], {}, {name: [] for name in methods}
    try:
        sink = SMTPSink()
        started.append(sink)
        for name, extra in methods.items():
            env = service_env(tmp / name, SMTP_PORT=str(sink.port), NETLIFY_SIGNING_SECRET=secret, PROXY_HOPS="1",
                              RATELIMIT_POST="100000 per minute;1000000 per hour",
                              MIN_FILL_SECONDS=str(args.fill_seconds), HUB_ENCRYPTION=name, **extra)
            web = Gunicorn(env, tmp / f"{name}.log", workers=args.workers).start()
            started.append(web)
            servers[name] = web
            warm = FormClient(web.port, headers=client_headers(250, 0), signing_secret=secret)
            for _ in range(args.workers * 3):
                warm.request("GET", TRIVIAL_PATH)
                warm.get_form()
            warm.close()
        for round_ in range(args.rounds):
            order = list(methods)[round_ % len(methods):] + list(methods)[:round_ % len(methods)]
            for name in order:
                results[name].append(run(servers[name].port, secret, args, "submit"))
        confirmed = {name: sum(r["requests"] - r["failed"] for r in results[name]) for name in methods}
        kept = {name: stored(tmp / name) for name in methods}
        sealed_as_told = {name: stored(tmp / name, STORED_AS[name]) for name in methods}
    finally:
        for thing in reversed(started):
            thing.stop()

    print(f"sealing benchmark: {args.clients} clients, gunicorn {args.workers} workers per server, {os.cpu_count()} "
          f"CPUs, {args.rounds} rounds (medians); load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")
    print(f"{'':<44} {'requests':>8} {'per s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name in methods:
        print(row(f"submit, HUB_ENCRYPTION={name}", median_of(results[name])))
    ok = True
    for name in ("smime", "openpgp"):
        ratios = [s["per_second"] / n["per_second"] for s, n in zip(results[name], results["none"])]
        print(f"{name} / none throughput: {statistics.median(ratios):.2f}  (goal >= 0.8; per round "
              f"{', '.join(f'{r:.2f}' for r in ratios)})")
    expected = args.rounds * args.clients * args.per_client
    for name in methods:
        failed = sum(r["failed"] for r in results[name])
        print(f"checks ({name}): {failed} failed, {confirmed[name]} confirmed of {expected} sent, {kept[name]} in "
              f"the outbox, {sealed_as_told[name]} of them stored as {name}")
        ok = ok and failed == 0 and kept[name] == confirmed[name] == sealed_as_told[name] == expected
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
