"""`seatflow discount`: discount codes."""

from __future__ import annotations

import argparse

import bootstrap
from cli.common import Subparsers, command, group, print_json
from cli.surcharge import parse_time
from services import admin
from services.upgrades import promotion


def create(args: argparse.Namespace) -> int:
    expires = parse_time(args.expires_at) if args.expires_at else None
    print_json(
        admin.create_discount(
            bootstrap.runtime().unit_of_work(),
            args.code,
            args.percent_off,
            args.amount_off,
            args.currency,
            expires,
            args.max_redemptions,
        )
    )
    return 0


def list_codes(args: argparse.Namespace) -> int:
    print_json(admin.list_discounts(bootstrap.runtime().unit_of_work()))
    return 0


def disable(args: argparse.Namespace) -> int:
    print_json(admin.disable_discount(bootstrap.runtime().unit_of_work(), args.code))
    return 0


def check(args: argparse.Namespace) -> int:
    found = bootstrap.runtime()
    uow, deps = found.unit_of_work(), found.deps
    print_json(promotion.check(args.code, args.org, uow, deps, args.amount, args.currency))
    return 0


def register(sub: Subparsers) -> None:
    discount = group(sub, "discount", "discount codes")
    new = command(
        discount,
        "create",
        "create a discount code",
        "seatflow discount create SPRING10 --percent-off 10 --max-redemptions 100",
        create,
    )
    new.add_argument("code")
    new.add_argument("--percent-off", type=int)
    new.add_argument("--amount-off", type=int, help="minor units")
    new.add_argument("--currency")
    new.add_argument("--expires-at", help="ISO 8601 time")
    new.add_argument("--max-redemptions", type=int)
    command(
        discount,
        "list",
        "list discount codes with their use and whether they are active",
        "seatflow discount list",
        list_codes,
    )
    off = command(
        discount,
        "disable",
        "refuse a discount code from now on",
        "seatflow discount disable SPRING10",
        disable,
    )
    off.add_argument("code")
    look = command(
        discount,
        "check",
        "show a code as an organization's upgrade would take it: seatflow's own code (which "
        "wins) or Stripe's promotion code, its restrictions checked",
        "seatflow discount check SPRING33 --org org_… --amount 90486",
        check,
    )
    look.add_argument("code")
    look.add_argument("--org", required=True, help="the organization whose upgrade it is for")
    look.add_argument("--amount", type=int, help="minor units due before the discount")
    look.add_argument("--currency", default="usd")
