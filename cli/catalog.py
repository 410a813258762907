"""`seatflow catalog`: prices by license type and interval."""

from __future__ import annotations

import argparse
import json

from cli.common import Subparsers, command, group
from services import admin, bootstrap


def import_file(args: argparse.Namespace) -> int:
    with open(args.file) as handle:
        entries = json.load(handle)
    count = admin.import_catalog(bootstrap.unit_of_work(), entries)
    print(f"{count} price(s) imported")
    return 0


def list_prices(args: argparse.Namespace) -> int:
    for p in admin.list_catalog(bootstrap.unit_of_work()):
        print(
            f"{p.license_type:<14} {p.interval:<6} {p.unit_amount:>10} {p.currency} "
            f"{p.stripe_price_id}"
        )
    return 0


def register(sub: Subparsers) -> None:
    catalog = group(sub, "catalog", "prices by license type and interval")
    imported = command(
        catalog,
        "import",
        "import prices from a JSON list",
        "seatflow catalog import cli/data/catalog.json",
        import_file,
    )
    imported.add_argument("file")
    command(catalog, "list", "list prices", "seatflow catalog list", list_prices)
