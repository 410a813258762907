"""`seatflow token`: bearer tokens for the org API and the pages."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import bootstrap
from cli.common import Subparsers, command, group, print_json
from services import directory


def create(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    print_json(
        directory.create_token(
            bootstrap.runtime().unit_of_work(), args.member, now, args.expires_in_days
        )
    )
    print(
        "keep the token: it is shown once (send it as Authorization: Bearer <token>)",
        file=sys.stderr,
    )
    return 0


def list_tokens(args: argparse.Namespace) -> int:
    print_json(directory.list_tokens(bootstrap.runtime().unit_of_work(), args.org))
    return 0


def revoke(args: argparse.Namespace) -> int:
    if not directory.revoke_token(
        bootstrap.runtime().unit_of_work(), args.token_id, datetime.now(UTC)
    ):
        print(f"no token {args.token_id} that is not revoked already", file=sys.stderr)
        return 1
    print(f"token {args.token_id} revoked; its member's page sessions ended")
    return 0


def register(sub: Subparsers) -> None:
    token = group(sub, "token", "API tokens")
    new = command(
        token,
        "create",
        "create a bearer token for a member",
        "seatflow token create --member mem_123 --expires-in-days 90",
        create,
    )
    new.add_argument("--member", required=True)
    new.add_argument(
        "--expires-in-days", type=int, help="refuse the token after this many days (default: never)"
    )
    listing = command(
        token,
        "list",
        "list an organization's tokens (ids, members, expiry, revocation; never the secret)",
        "seatflow token list --org org_123",
        list_tokens,
    )
    listing.add_argument("--org", required=True)
    gone = command(
        token,
        "revoke",
        "revoke a token now and end its member's page sessions",
        "seatflow token revoke 42",
        revoke,
    )
    gone.add_argument("token_id", type=int, help="the id shown by `token create` or `token list`")
