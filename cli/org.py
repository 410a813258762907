"""`seatflow org`: organizations."""

from __future__ import annotations

import argparse

import bootstrap
from cli.common import Subparsers, command, group, print_json
from services import admin, directory


def create(args: argparse.Namespace) -> int:
    print_json(
        admin.create_organization(
            bootstrap.runtime().unit_of_work(), args.name, args.id, args.customer
        )
    )
    return 0


def list_organizations(args: argparse.Namespace) -> int:
    print_json(directory.list_organizations(bootstrap.runtime().unit_of_work()))
    return 0


def register(sub: Subparsers) -> None:
    org = group(sub, "org", "organizations")
    new = command(
        org,
        "create",
        "create an organization",
        'seatflow org create --name "Acme" --customer cus_123',
        create,
    )
    new.add_argument("--name", required=True)
    new.add_argument("--id", help="organization id (default: generated)")
    new.add_argument("--customer", help="its Stripe customer id (cus_...)")
    command(org, "list", "list organizations", "seatflow org list", list_organizations)
