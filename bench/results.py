"""What a benchmark run leaves behind: one JSON file in bench/results/, named
`<name>-<UTC time>.json`, with the figures and what they depend on: the commit (and whether
the work tree had uncommitted changes), the machine (cores, load average before and after the
run, Python), the command line, and the events sent. `python -m bench.report` turns the files
into the tables of bench/RESULTS.md.

    run = results.start("burst", args)       # before anything is set up: the load then
    ...
    results.write(run, rows)                 # rows: one dict per measured line
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DIRECTORY = Path(__file__).resolve().parent / "results"


@dataclass
class Run:
    name: str
    command: str
    started_at: datetime
    load_before: list[float]
    events: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    # The code measured: taken when the run begins, before anyone edits the work tree.
    code: dict[str, Any] = field(default_factory=lambda: commit())


def add_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--label",
        default="",
        help="a word kept with the results, e.g. 'smoke' for a run on a busy machine",
    )


def commit(root: Path = ROOT) -> dict[str, Any]:
    """The commit measured, and whether the work tree differed from it."""

    def git(*args: str) -> str:
        out = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
        return out.stdout.strip() if out.returncode == 0 else ""

    head = git("rev-parse", "HEAD")
    changes = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": head or None, "dirty": bool(changes)}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    # From os.uname(): platform.platform() runs `uname -p` in a process of its own.
    system = os.uname()
    return {
        "cores": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": f"{system.sysname}-{system.release}-{system.machine}",
    }


def command_line(name: str, argv: list[str] | None = None) -> str:
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", "-m", f"bench.{name}", *args])


def start(
    name: str,
    args: argparse.Namespace | None = None,
    argv: list[str] | None = None,
    events: dict[str, Any] | None = None,
    module: str | None = None,
) -> Run:
    """A run begins: the load average now is the machine's state before it. `module` is
    the benchmark's module when the run's name is not (`pipeline-latency`)."""
    small = bool(getattr(args, "small_events", False))
    label = str(getattr(args, "label", "") or "")
    if events is None:
        events = _events(small)
    command = command_line(module or name, argv)
    return Run(name, command, datetime.now(UTC), load_average(), events, label)


def _events(small: bool) -> dict[str, Any]:
    from bench import events
    from cli import samples

    body, _ = samples.signed(events.subscription_updated(1, 2, 1_700_000_000, small=small), "x")
    return {
        "kind": "small samples" if small else "full-size",
        "type": "customer.subscription.updated",
        "bytes": len(body),
    }


def document(run: Run, rows: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The JSON document of a finished run."""
    return {
        "name": run.name,
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **run.code,
        "command": run.command,
        "label": run.label,
        "machine": machine() | {"load_before": run.load_before, "load_after": load_average()},
        "events": run.events,
        "rows": rows,
        **extra,
    }


def write(
    run: Run, rows: list[dict[str, Any]], directory: Path | None = None, **extra: Any
) -> Path:
    """Write the run's JSON file; returns its path (printed, for the log of `make bench`)."""
    directory = directory or DIRECTORY
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{run.name}-{run.started_at:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(document(run, rows, **extra), indent=2) + "\n")
    print(f"results: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path
