"""`seatflow reconcile`: compare with Stripe now; repair and record drift."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

import bootstrap
from cli.common import Subparsers, command
from cli.surcharge import parse_time
from services import reconciliation

JOB_LABELS = {
    "estimate": "upgrades (estimate drift)",
    "stripe_state": "Stripe subscriptions read",
    "events": "Stripe events",
    "saga": "stuck upgrades",
    "scheduled_changes": "Stripe schedules of changes at renewal",
}


class RateColumn(ProgressColumn):
    """Items checked per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f}/s", style="progress.data.speed")


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<26}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def reconcile(args: argparse.Namespace) -> int:
    from adapters import drift

    with progress_bar(Console(stderr=True)) as bar:
        tasks: dict[str, Any] = {}

        def progress(kind: str, checked: int, total: int | None) -> None:
            if kind not in tasks:
                tasks[kind] = bar.add_task(JOB_LABELS.get(kind, kind), total=total)
            bar.update(tasks[kind], completed=checked, total=total)  # None: not known yet

        summary = reconciliation.run_all(
            bootstrap.unit_of_work(),
            bootstrap.deps(),
            dry_run=args.dry_run,
            org_id=args.org,
            since=parse_time(args.since) if args.since else None,
            progress=progress,
        )
    print(drift.render_summary(summary))
    if args.dry_run:
        print("dry run: nothing was changed")
    return 1 if summary.failed else 0


def register(sub: Subparsers) -> None:
    rec = command(
        sub,
        "reconcile",
        "compare with Stripe now; repair and record drift (every job runs, even after one fails)",
        "seatflow reconcile --dry-run --org org_123",
        reconcile,
    )
    rec.add_argument("--dry-run", action="store_true", help="report, change nothing")
    rec.add_argument("--org", help="only this organization")
    rec.add_argument("--since", help="look for missed events from this time (ISO 8601)")
