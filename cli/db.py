"""`seatflow db`: the database schema."""

from __future__ import annotations

import argparse

from cli.common import Subparsers, command, group


def upgrade(args: argparse.Namespace) -> int:
    from adapters import migrations

    migrations.upgrade()
    print("database is at the newest migration")
    return 0


def register(sub: Subparsers) -> None:
    db = group(sub, "db", "database schema")
    command(db, "upgrade", "apply all migrations", "seatflow db upgrade", upgrade)
