"""`seatflow`: the command line for operators and developers, one module per command group."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cli import (
    catalog,
    db,
    dev,
    discount,
    drift,
    events,
    license,
    member,
    org,
    reconcile,
    surcharge,
    token,
)

GROUPS = (dev, db, org, member, token, catalog, discount, events, reconcile, drift, license)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seatflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (*GROUPS, surcharge):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from config.settings import ConfigError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
