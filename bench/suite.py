"""`make bench`: every benchmark with the parameters bench/RESULTS.md documents, one after
the other, each writing its JSON file to bench/results/; then bench/RESULTS.md's tables are
generated again from those files (`python -m bench.report`).

    python -m bench.suite [--only burst,profile_worker] [--label smoke] [--small-events]

A benchmark that fails is reported and the others still run; the exit status says whether
any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from bench.results import ROOT

# (module, arguments): the documented parameters, in the order they run.
SUITE: list[tuple[str, list[str]]] = [
    ("receiver", ["--duration", "10"]),
    ("writer", ["--events", "6000"]),
    ("burst", ["--duration", "10", "--connections", "16", "--orgs", "200", "--runs", "3"]),
    ("pipeline", ["throughput", "--events", "6000"]),
    ("pipeline", ["latency", "--rate", "100", "--seconds", "30"]),
    ("pipeline", ["memory", "--events", "100000"]),
    ("profile_worker", ["--events", "4000", "--batch", "150"]),
    ("reconcile", ["--count", "100000"]),
]
TAKES_EVENTS = {"receiver", "writer", "burst", "pipeline", "profile_worker"}


def commands(only: set[str] | None = None, label: str = "", small: bool = False) -> list[list[str]]:
    """The command lines `make bench` runs (`only`: those modules)."""
    out = []
    for module, args in SUITE:
        if only and module not in only:
            continue
        extra = (["--label", label] if label else []) + (
            ["--small-events"] if small and module in TAKES_EVENTS else []
        )
        out.append([sys.executable, "-m", f"bench.{module}", *args, *extra])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="", help="comma-separated modules, e.g. burst,writer")
    parser.add_argument("--label", default="", help="kept with every result, e.g. smoke")
    parser.add_argument("--small-events", action="store_true", help="the small sample events")
    args = parser.parse_args()
    only = {m for m in args.only.split(",") if m} or None
    failed = []
    for command in commands(only, args.label, args.small_events):
        print("$", " ".join(["python", *command[1:]]), flush=True)
        if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
            failed.append(" ".join(command[2:]))
    subprocess.run([sys.executable, "-m", "bench.report"], cwd=ROOT, check=True)
    if failed:
        sys.exit("failed: " + "; ".join(failed))


if __name__ == "__main__":
    main()
