"""`seatflow change`: changes scheduled for a subscription's renewal (fewer seats, annual →
monthly, a lower tier), on behalf of an owner or admin. Nothing is charged or refunded now."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

import bootstrap
from cli.common import Subparsers, command, group, print_json
from domain.model import Interval
from domain.money import format_money
from domain.ports import ChargeUnavailable
from domain.renewal import CancelScheduledChange, ScheduleChange, ScheduledChange
from services.upgrades import renewal


def _terms(seats: int, interval: str, tier: str) -> str:
    return f"{seats} seats, {'annual' if interval == Interval.YEAR else 'monthly'}, {tier}"


def _row(change: ScheduledChange) -> dict[str, Any]:
    return {
        "id": change.id,
        "license_type": change.license_type,
        "state": change.state,
        "from": _terms(change.from_seats, change.from_interval, change.from_tier),
        "to": _terms(change.seats, change.interval, change.tier),
        "at": change.effective_at.date().isoformat(),
        "next_invoice": format_money(change.next_invoice_amount, change.currency),
        "next_invoice_amount": change.next_invoice_amount,
        "currency": change.currency,
        "cause": change.cause,
    }


def list_changes(args: argparse.Namespace) -> int:
    found = renewal.changes_of(bootstrap.runtime().unit_of_work(), args.org)
    print_json([_row(c) for c in found if args.all or c.pending])
    return 0


def _interval_today(org_id: str, license_type: str) -> str:
    with bootstrap.runtime().unit_of_work() as uow:
        org = uow.organizations.get(org_id)
        sub = org.subscription_for(license_type) if org else None
    return sub.interval if sub else Interval.MONTH.value


def schedule(args: argparse.Namespace) -> int:
    interval = args.interval or _interval_today(args.org, args.license_type)
    cmd = ScheduleChange(args.org, args.member, args.license_type, args.seats, interval, args.tier)
    change = renewal.schedule_change(
        cmd, bootstrap.runtime().unit_of_work(), bootstrap.runtime().deps
    )
    with contextlib.suppress(ChargeUnavailable):  # else the task sent with the commit does
        renewal.push_change(change.id, bootstrap.runtime().unit_of_work(), bootstrap.runtime().deps)
    with bootstrap.runtime().unit_of_work() as uow:
        found = uow.changes.get(change.id)
    print_json(_row(found or change))
    return 0


def cancel(args: argparse.Namespace) -> int:
    cmd = CancelScheduledChange(args.org, args.member, args.change_id)
    print_json(
        _row(
            renewal.cancel_change(cmd, bootstrap.runtime().unit_of_work(), bootstrap.runtime().deps)
        )
    )
    return 0


def register(sub: Subparsers) -> None:
    change = group(sub, "change", "changes scheduled for a subscription's renewal")
    listing = command(
        change,
        "list",
        "list an organization's pending changes with their date and next invoice",
        "seatflow change list --org org_123 [--all]",
        list_changes,
    )
    listing.add_argument("--org", required=True)
    listing.add_argument("--all", action="store_true", help="ended changes too")
    new = command(
        change,
        "schedule",
        "schedule fewer seats, annual → monthly and/or a lower tier for the renewal",
        "seatflow change schedule --org org_123 --member mem_1 --license-type node_locked "
        "--seats 3 --interval month",
        schedule,
    )
    new.add_argument("--org", required=True)
    new.add_argument("--member", required=True, help="the owner or admin asking")
    new.add_argument("--license-type", required=True)
    new.add_argument("--seats", required=True, type=int)
    new.add_argument("--interval", choices=[i.value for i in Interval], help="default: today's")
    new.add_argument("--tier", help="default: today's")
    gone = command(
        change,
        "cancel",
        "cancel a pending change before its period ends",
        "seatflow change cancel chg_123 --org org_123 --member mem_1",
        cancel,
    )
    gone.add_argument("change_id")
    gone.add_argument("--org", required=True)
    gone.add_argument("--member", required=True)
