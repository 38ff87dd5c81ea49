"""Every benchmark in bench/ still runs (issue 17): each at its smallest size, as a real process,
exactly as ``make bench-smoke`` runs it (the table is testsupport/benchmarks.py).

A pass means the benchmark's own checks passed (it exits 1 otherwise: a submission not stored,
an enquiry not delivered or sent twice, a message not sealed) and it printed its result against
the baseline it measured in the same run. The figures are not compared with any goal: at this
size they mean nothing. 1 to 2 minutes in all; Lighthouse needs `npm ci --prefix bench`
(make test runs it).
"""
from __future__ import annotations

import pytest

from testsupport.benchmarks import SMOKE, BenchmarkRun

TIMEOUT = 300  # seconds; each takes well under a minute on 2 shared cores


@pytest.mark.parametrize("name", SMOKE)
def test_benchmark_runs_at_its_smallest_size_checks_itself_and_prints_its_ratio(name, tmp_path, processes):
    run = processes.add(BenchmarkRun(name, tmp_path / f"{name}.log").start())
    run.wait(TIMEOUT)
    problems = run.problems()
    assert not problems, f"python {run.command}: {'; '.join(problems)}\n{run.output()[-4000:]}"
