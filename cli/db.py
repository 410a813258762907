"""`seatflow db`: the database schema."""

from __future__ import annotations

import argparse

from cli.common import Subparsers, command, group


def upgrade(args: argparse.Namespace) -> int:
    from adapters import migrations

    migrations.upgrade()
    print("database is at the newest migration")
    return 0


def downgrade(args: argparse.Namespace) -> int:
    from adapters import migrations

    migrations.downgrade(args.revision)
    print(f"database is at migration {migrations.current() or 'base (no tables)'}")
    return 0


def current(args: argparse.Namespace) -> int:
    from adapters import migrations

    print(f"database is at migration {migrations.current() or 'base (no tables)'}")
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
    down = command(
        db,
        "downgrade",
        "undo the migrations after REVISION (a rollback: run it with the release you leave, "
        "before starting the older one)",
        "seatflow db downgrade 0007",
        downgrade,
    )
    down.add_argument("revision", help="the migration to go back to (0007), or -1 for one step")
    command(db, "current", "print the migration the database is at", "seatflow db current", current)
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
