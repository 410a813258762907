"""`seatflow member`: an organization's members and their roles."""

from __future__ import annotations

import argparse

import bootstrap
from cli.common import Subparsers, command, group, print_json
from domain.model import Role
from services import admin, directory


def add(args: argparse.Namespace) -> int:
    print_json(
        admin.add_member(bootstrap.runtime().unit_of_work(), args.org, args.email, args.role)
    )
    return 0


def remove(args: argparse.Namespace) -> int:
    return 0 if admin.remove_member(bootstrap.runtime().unit_of_work(), args.member_id) else 1


def list_members(args: argparse.Namespace) -> int:
    print_json(directory.list_members(bootstrap.runtime().unit_of_work(), args.org))
    return 0


def register(sub: Subparsers) -> None:
    member = group(sub, "member", "organization members")
    new = command(
        member,
        "add",
        "add a member with a role",
        "seatflow member add --org org_123 --email ana@example.com --role admin",
        add,
    )
    new.add_argument("--org", required=True)
    new.add_argument("--email", required=True)
    new.add_argument("--role", required=True, choices=[r.value for r in Role])
    gone = command(
        member,
        "remove",
        "remove a member (their tokens stop working, their page sessions end)",
        "seatflow member remove mem_123",
        remove,
    )
    gone.add_argument("member_id")
    listing = command(
        member,
        "list",
        "list an organization's members and roles",
        "seatflow member list --org org_123",
        list_members,
    )
    listing.add_argument("--org", required=True)
