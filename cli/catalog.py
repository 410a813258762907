"""`seatflow catalog`: per-seat prices by license type, tier and interval."""

from __future__ import annotations

import argparse
import json
import sys

import bootstrap
from cli.common import Subparsers, command, group
from domain.errors import BadCatalogEntry
from domain.money import format_money
from services import admin


def read_file(path: str) -> object:
    """A catalog file's JSON; a syntax error names the file, the line and the column."""
    with open(path) as handle:
        text = handle.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadCatalogEntry(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def import_prices(args: argparse.Namespace) -> int:
    if bool(args.file) == bool(args.from_stripe):
        print("error: give a FILE or --from-stripe", file=sys.stderr)
        return 2
    try:
        if args.from_stripe:
            entries: object = admin.stripe_catalog_entries(bootstrap.runtime().door)
        else:
            entries = read_file(args.file)
        if args.replace:
            count, removed = admin.replace_catalog(bootstrap.runtime().unit_of_work(), entries)
            print(f"{count} price(s) imported, replacing the {removed} stored")
            return 0
        count = admin.import_catalog(bootstrap.runtime().unit_of_work(), entries)
    except BadCatalogEntry as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{count} price(s) imported")
    return 0


def list_prices(args: argparse.Namespace) -> int:
    for p in admin.list_catalog(bootstrap.runtime().unit_of_work()):
        print(
            f"{p.license_type:<14} {p.tier:<14} {p.rank:>2} {p.interval:<6} "
            f"{format_money(p.unit_amount, p.currency):>16} {p.stripe_price_id} "
            f"{','.join(p.features)}"
        )
    return 0


def remove(args: argparse.Namespace) -> int:
    for price_id in args.stripe_price_ids:
        p = admin.remove_catalog_price(bootstrap.runtime().unit_of_work(), price_id)
        print(f"removed {p.license_type}/{p.tier}/{p.interval} ({p.stripe_price_id})")
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
    imported.add_argument(
        "--replace",
        action="store_true",
        help="replace the whole stored catalog (without it, an import that conflicts with "
        "the stored prices is refused, listing the conflicts)",
    )
    command(catalog, "list", "list prices", "seatflow catalog list", list_prices)
    gone = command(
        catalog,
        "remove",
        "remove prices from the catalog by their Stripe price id",
        "seatflow catalog remove price_node_locked_enterprise_year",
        remove,
    )
    gone.add_argument("stripe_price_ids", nargs="+", metavar="STRIPE_PRICE_ID")
