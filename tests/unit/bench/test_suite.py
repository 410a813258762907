"""`make bench` runs every benchmark with its documented parameters, then the report."""

from __future__ import annotations

import re
import sys

from bench import report, suite
from bench.results import ROOT


def _bench_recipe() -> str:
    makefile = (ROOT / "Makefile").read_text()
    return re.search(r"^bench:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)  # type: ignore[union-attr]


def test_make_bench_runs_the_suite() -> None:
    assert "$(BIN)/python -m bench.suite $(BENCH_ARGS)" in _bench_recipe()


def test_the_suite_runs_each_benchmark_with_its_documented_parameters() -> None:
    lines = [" ".join(c[2:]) for c in suite.commands()]
    assert lines == [
        "bench.receiver --duration 10",
        "bench.writer --events 6000",
        "bench.burst --duration 10 --connections 16 --orgs 200 --runs 3",
        "bench.pipeline throughput --events 6000",
        "bench.pipeline latency --rate 100 --seconds 30",
        "bench.pipeline memory --events 100000",
        "bench.profile_worker --events 4000 --batch 150",
        "bench.reconcile --count 100000",
    ]
    assert all(c[0] == sys.executable for c in suite.commands())
    listed = report.render([])
    for line in lines:
        assert f"- `python -m {line}`" in listed


def test_a_label_goes_to_every_benchmark_and_small_events_only_to_those_that_send_events() -> None:
    chosen = suite.commands({"burst", "reconcile"}, label="smoke", small=True)
    assert [c[2:] for c in chosen] == [
        [
            "bench.burst",
            *("--duration", "10", "--connections", "16", "--orgs", "200", "--runs", "3"),
            *("--label", "smoke", "--small-events"),
        ],
        ["bench.reconcile", "--count", "100000", "--label", "smoke"],
    ]
