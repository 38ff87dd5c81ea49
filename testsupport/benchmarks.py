"""Every benchmark in bench/ at its smallest size: ``make bench-smoke`` (bench/smoke.py) and
tests/test_bench.py both run this one table, so a benchmark that stops working (a class renamed,
a setting made required) fails the tests instead of the next person who wants a figure.

A smoke run passes when the benchmark exits 0, which each does only when its own checks pass
(every submission confirmed and stored, every enquiry delivered once, every message sealed and
opened again...), and prints its result lines: the figure against its baseline measured in the
same run (Lighthouse has no baseline: its table row and the home page's transfer). The figures
themselves mean nothing at this size; only the full runs (``make bench``) are compared with goals.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .processes import PYTHON, Process

RATIO = r"\d+\.\d\d"


@dataclass(frozen=True)
class Smoke:
    args: tuple[str, ...]
    #: Patterns (re.MULTILINE) that must each match the output: the benchmark's result lines.
    results: tuple[str, ...]


#: ``python -m bench.NAME ARGS``: each a few seconds (about 10 to 25 on 2 shared cores).
SMOKE: dict[str, Smoke] = {
    "deliver": Smoke(("--messages", "5", "--rounds", "1"), (rf"^worker / raw: {RATIO}",)),
    "submit": Smoke(("--clients", "2", "--client-processes", "1", "--per-client", "2", "--trivial-per-client", "5",
                     "--rounds", "1", "--workers", "1", "--smtp-timeout", "1", "--fill-seconds", "1"),
                    (rf"^submit / trivial throughput: {RATIO}", rf"^silent SMTP / answering SMTP: p50 {RATIO}")),
    # The table's "vs none" column, unsigned and signed; and what signing adds.
    "seal": Smoke(("--messages", "5", "--gpg-messages", "2", "--rounds", "1"),
                  (*(rf"^{name} +[\d,]+ +{RATIO} " for name in ("smime", "openpgp-ecc", "gpg-process", "smime-signed",
                                                                "openpgp-ecc-signed")),
                   rf"^signed / unsigned .*smime-signed {RATIO} .*openpgp-ecc-signed {RATIO} ")),
    "sealing": Smoke(("--clients", "1", "--client-processes", "1", "--per-client", "2", "--rounds", "1",
                      "--workers", "1", "--fill-seconds", "1"),
                     (rf"^smime / none throughput: {RATIO}", rf"^openpgp / none throughput: {RATIO}")),
    "cluster": Smoke(("--rounds", "1", "--clients", "1", "--client-processes", "1", "--per-client", "2",
                      "--workers", "1", "--backlog", "10", "--fill-seconds", "1"),
                     (rf"PostgreSQL / SQLite {RATIO}", rf"two / one {RATIO}")),
    "outbox_pg": Smoke(("--adds", "6", "--rounds", "1", "--clients", "2"), (rf"ratio PostgreSQL/SQLite {RATIO}",)),
    # One page: the site is built, served as in production and measured; needs `npm ci --prefix bench`.
    "lighthouse": Smoke(("/",), (r"^\| `/` \| \d+ \| \d+ \| \d+ \| \d+ \| [\d.]+ \|$",
                                 r"^Home page transfer: [\d.]+ KB")),
}


def _interruptible() -> None:
    # A shell's background job starts with SIGINT ignored, and Python then keeps it ignored.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class BenchmarkRun(Process):
    """``python -m bench.NAME`` at its smoke size, its output in ``log``.

    Stopped with SIGINT first: KeyboardInterrupt runs the benchmark's ``finally`` blocks, which
    stop the servers it started in sessions of their own (out of reach of this group's SIGKILL).
    """

    def __init__(self, name: str, log: Path):
        self.name = name
        super().__init__([PYTHON, "-m", f"bench.{name}", *SMOKE[name].args], dict(os.environ), log,
                         preexec_fn=_interruptible)

    @property
    def command(self) -> str:
        return " ".join(self.args[1:])

    def wait(self, timeout: float) -> int:
        """Its exit status; ``subprocess.TimeoutExpired`` if it runs longer."""
        return self.popen.wait(timeout)

    def stop(self, timeout: float = 15) -> int | None:
        if self.running():
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        return super().stop(timeout)

    def problems(self) -> list[str]:
        """Why the smoke run failed (empty when it passed); call once it has exited."""
        found = [] if self.popen.returncode == 0 else [f"exit status {self.popen.returncode}"]
        output = self.output()
        found += [f"no line matching {pattern!r}" for pattern in SMOKE[self.name].results
                  if not re.search(pattern, output, re.MULTILINE)]
        return found
