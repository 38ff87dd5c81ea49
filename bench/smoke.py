"""Every benchmark at its smallest size, one after another: does each still run and check itself?

    .venv/bin/python -m bench.smoke [NAME ...]      # or: make bench-smoke

The sizes and the result lines each must print are in testsupport/benchmarks.py (tests/test_bench.py
runs the same table). Prints each benchmark's output and how long it took; exits 1 if any failed.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from testsupport.benchmarks import SMOKE, BenchmarkRun

TIMEOUT = 300  # seconds for one benchmark; each takes well under a minute


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"only these ({', '.join(SMOKE)}); default: all")
    names = parser.parse_args().names or list(SMOKE)
    if unknown := set(names) - set(SMOKE):
        parser.error(f"no such benchmark: {', '.join(sorted(unknown))}")

    summary, failed, began = [], [], time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-smoke-") as tmp:
        for name in names:
            run = BenchmarkRun(name, Path(tmp) / f"{name}.log")
            print(f"== python {run.command}", flush=True)
            start = time.monotonic()
            try:
                run.start().wait(TIMEOUT)
                problems = run.problems()
            except subprocess.TimeoutExpired:
                problems = [f"still running after {TIMEOUT} s"]
            finally:
                run.stop()
            seconds = time.monotonic() - start
            print(run.output().rstrip(), flush=True)
            verdict = "FAILED: " + "; ".join(problems) if problems else "ok"
            summary.append(f"  {name:<12} {seconds:5.1f} s  {verdict}")
            if problems:
                failed.append(name)
    print(f"\nbench-smoke: {len(names) - len(failed)} of {len(names)} passed in {time.monotonic() - began:.0f} s")
    print("\n".join(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
