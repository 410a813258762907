"""`seatflow token`: bearer tokens for the org API and the pages."""

from __future__ import annotations

import argparse
import sys

from cli.common import Subparsers, command, group, print_json
from services import admin, bootstrap


def create(args: argparse.Namespace) -> int:
    print_json(admin.create_token(bootstrap.unit_of_work(), args.member))
    print(
        "keep the token: it is shown once (send it as Authorization: Bearer <token>)",
        file=sys.stderr,
    )
    return 0


def register(sub: Subparsers) -> None:
    token = group(sub, "token", "API tokens")
    new = command(
        token,
        "create",
        "create a bearer token for a member",
        "seatflow token create --member mem_123",
        create,
    )
    new.add_argument("--member", required=True)
