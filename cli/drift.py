"""`seatflow drift`: what reconciliation found (estimate drift, Stripe state, missed events)."""

from __future__ import annotations

import argparse

import bootstrap
from cli.common import Subparsers, command, group
from domain.reconciliation_jobs import DRIFT_KINDS


def report(args: argparse.Namespace) -> int:
    from adapters import drift

    print(drift.render(drift.rows(bootstrap.runtime().engine, args.kind, args.limit), args.format))
    return 0


def register(sub: Subparsers) -> None:
    drift = group(sub, "drift", "drift found by reconciliation")
    listing = command(
        drift, "report", "list drift records", "seatflow drift report --kind estimate", report
    )
    listing.add_argument("--format", choices=["table", "json", "csv"], default="table")
    listing.add_argument("--kind", choices=DRIFT_KINDS)
    listing.add_argument("--limit", type=int, default=1000)
