"""`seatflow db`: the database schema."""

from __future__ import annotations

import argparse

from cli.common import Subparsers, command, group


def upgrade(args: argparse.Namespace) -> int:
    from adapters import migrations

    migrations.upgrade()
    print("database is at the newest migration")
    return 0


def revision(args: argparse.Namespace) -> int:
    from adapters import migrations

    for path in migrations.revision(
        args.message, autogenerate=args.autogenerate, version_path=args.version_path
    ):
        print(f"wrote {path}: review it before you commit it")
    return 0


def register(sub: Subparsers) -> None:
    db = group(sub, "db", "database schema")
    command(db, "upgrade", "apply all migrations", "seatflow db upgrade", upgrade)
    new = command(
        db,
        "revision",
        "write the next migration (with --autogenerate: what the models add to the database)",
        'seatflow db revision -m "add discount expiry" --autogenerate',
        revision,
    )
    new.add_argument("-m", "--message", required=True, help="what the migration does")
    new.add_argument(
        "--autogenerate",
        action="store_true",
        help="compare the models with the database (at the newest migration) and write the "
        "difference",
    )
    new.add_argument("--version-path", help="write it here instead of migrations/versions")
