"""`seatflow drift`: what reconciliation found (estimate drift, Stripe state, missed events)."""

from __future__ import annotations

import argparse

import bootstrap
from cli.common import Subparsers, command, group


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
    kinds = ["estimate", "stripe_state", "missed_event", "saga", "payment"]
    listing.add_argument("--kind", choices=kinds)
    listing.add_argument("--limit", type=int, default=1000)
