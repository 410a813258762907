"""`seatflow reconcile`: compare with Stripe now; repair and record drift."""

from __future__ import annotations

import argparse
import sys

from cli.common import Subparsers, command
from cli.surcharge import parse_time
from services import bootstrap, reconciliation


def reconcile(args: argparse.Namespace) -> int:
    from adapters import drift

    def progress(what: str, count: int) -> None:
        print(f"\r{what}: {count:,} checked", end="", file=sys.stderr, flush=True)

    summary = reconciliation.run_all(
        bootstrap.unit_of_work(),
        bootstrap.deps(),
        dry_run=args.dry_run,
        org_id=args.org,
        since=parse_time(args.since) if args.since else None,
        progress=progress,
    )
    print(file=sys.stderr)
    print(drift.render_summary(summary))
    if args.dry_run:
        print("dry run: nothing was changed")
    return 0


def register(sub: Subparsers) -> None:
    rec = command(
        sub,
        "reconcile",
        "compare with Stripe now; repair and record drift",
        "seatflow reconcile --dry-run --org org_123",
        reconcile,
    )
    rec.add_argument("--dry-run", action="store_true", help="report, change nothing")
    rec.add_argument("--org", help="only this organization")
    rec.add_argument("--since", help="look for missed events from this time (ISO 8601)")
