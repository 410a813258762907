"""`seatflow surcharge`: the formula from explicit inputs, one case or a JSON-lines batch."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from cli.common import Subparsers, command
from domain.discounts import Discount
from domain.errors import DomainError
from domain.model import Interval
from domain.proration import Plan, compute_surcharge

FIELDS = {
    "old_unit_amount": int,
    "old_seats": int,
    "old_interval": str,
    "new_unit_amount": int,
    "new_seats": int,
    "new_interval": str,
    "cycle_start": str,
    "as_of": str,
}


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def surcharge(case: dict[str, Any]) -> dict[str, Any]:
    """One case in, one result out (an `error` object for a bad case)."""
    try:
        for name, kind in FIELDS.items():
            if not isinstance(case.get(name), kind) or isinstance(case.get(name), bool):
                raise ValueError(f"{name} is required and must be {kind.__name__}")
        currency = str(case.get("currency", "usd"))
        discount = None
        if case.get("percent_off") is not None or case.get("amount_off") is not None:
            discount = Discount(
                code="audit",
                percent_off=case.get("percent_off"),
                amount_off=case.get("amount_off"),
                currency=currency,
            )
        result = compute_surcharge(
            Plan(case["old_unit_amount"], case["old_seats"], case["old_interval"], currency),
            Plan(case["new_unit_amount"], case["new_seats"], case["new_interval"], currency),
            parse_time(case["cycle_start"]),
            parse_time(case["as_of"]),
            trial=bool(case.get("trial", False)),
            discount=discount,
        )
    except (ValueError, KeyError, DomainError) as exc:
        return {"error": {"code": getattr(exc, "code", "invalid_case"), "message": str(exc)}}
    return {
        "amount": result.amount.amount,
        "currency": result.amount.currency,
        "before_discount": result.before_discount.amount,
        "discount": result.discount.amount,
        "new_term": result.new_term.amount,
        "old_term": result.old_term.amount,
        "old_unused_minutes": result.old_unused_minutes,
        "old_total_minutes": result.old_total_minutes,
        "new_unused_minutes": result.new_unused_minutes,
        "new_total_minutes": result.new_total_minutes,
        "cycle_start": _iso(result.cycle_start),
        "current_cycle_end": _iso(result.current_cycle_end),
        "new_cycle_end": _iso(result.new_cycle_end),
        "next_invoice_at": _iso(result.next_invoice_at),
        "next_invoice_amount": result.next_invoice_amount.amount,
        "trial": result.trial,
    }


def batch(lines: Iterable[str]) -> Iterator[str]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except ValueError:
            result: dict[str, Any] = {
                "error": {"code": "invalid_json", "message": f"line {number}"}
            }
        else:
            result = (
                surcharge(case)
                if isinstance(case, dict)
                else {
                    "error": {"code": "invalid_case", "message": f"line {number} is not an object"}
                }
            )
        yield json.dumps(result, separators=(",", ":"))


def run(args: argparse.Namespace) -> int:
    if args.batch:
        with open(args.batch) as handle:
            for line in batch(handle):
                print(line)
        return 0
    extra = ("currency", "percent_off", "amount_off", "trial")
    result = surcharge({k: v for k, v in vars(args).items() if k in FIELDS or k in extra})
    print(json.dumps(result, indent=2, default=str))
    return 1 if "error" in result else 0


def register(sub: Subparsers) -> None:
    intervals = [i.value for i in Interval]
    sur = command(
        sub,
        "surcharge",
        "compute a surcharge from explicit inputs (JSON)",
        "seatflow surcharge --old-unit-amount 10000 --old-seats 1 --old-interval month "
        "--new-unit-amount 100000 --new-seats 1 --new-interval year "
        "--cycle-start 2022-01-01T00:00:00Z --as-of 2022-01-11T00:00:00Z",
        run,
    )
    sur.add_argument("--batch", metavar="FILE.jsonl", help="one case per line in, one result out")
    sur.add_argument("--old-unit-amount", type=int, help="minor units per seat")
    sur.add_argument("--old-seats", type=int)
    sur.add_argument("--old-interval", choices=intervals)
    sur.add_argument("--new-unit-amount", type=int)
    sur.add_argument("--new-seats", type=int)
    sur.add_argument("--new-interval", choices=intervals)
    sur.add_argument("--cycle-start", help="ISO 8601, e.g. 2022-01-01T00:00:00Z")
    sur.add_argument("--as-of", help="ISO 8601, e.g. 2022-01-11T00:00:00Z")
    sur.add_argument("--currency", default="usd")
    sur.add_argument("--percent-off", type=int)
    sur.add_argument("--amount-off", type=int)
    sur.add_argument("--trial", action="store_true")
