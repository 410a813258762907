"""`seatflow catalog`: per-seat prices by license type, tier and interval."""

from __future__ import annotations

import argparse
import json
import sys

from cli.common import Subparsers, command, group
from domain.errors import BadCatalogEntry
from domain.money import format_money
from services import admin, bootstrap


def import_prices(args: argparse.Namespace) -> int:
    if bool(args.file) == bool(args.from_stripe):
        print("error: give a FILE or --from-stripe", file=sys.stderr)
        return 2
    try:
        if args.from_stripe:
            count = admin.import_catalog_from_stripe(
                bootstrap.unit_of_work(), bootstrap.deps().gateway
            )
        else:
            with open(args.file) as handle:
                entries = json.load(handle)
            count = admin.import_catalog(bootstrap.unit_of_work(), entries)
    except BadCatalogEntry as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{count} price(s) imported")
    return 0


def list_prices(args: argparse.Namespace) -> int:
    for p in admin.list_catalog(bootstrap.unit_of_work()):
        print(
            f"{p.license_type:<14} {p.tier:<14} {p.rank:>2} {p.interval:<6} "
            f"{format_money(p.unit_amount, p.currency):>16} {p.stripe_price_id} "
            f"{','.join(p.features)}"
        )
    return 0


def register(sub: Subparsers) -> None:
    catalog = group(sub, "catalog", "prices by license type, tier and interval")
    imported = command(
        catalog,
        "import",
        "import prices from a JSON list, or from Stripe's prices and their metadata",
        "seatflow catalog import cli/data/catalog.json\n  seatflow catalog import --from-stripe",
        import_prices,
    )
    imported.add_argument("file", nargs="?")
    imported.add_argument(
        "--from-stripe",
        action="store_true",
        help="read active recurring prices whose metadata names a license_type "
        "(and tier, rank, features)",
    )
    command(catalog, "list", "list prices", "seatflow catalog list", list_prices)
