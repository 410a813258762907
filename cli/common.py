"""What every command group shares: how a command is declared and how results print."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

Command = Callable[[argparse.Namespace], int]
Subparsers = Any  # argparse's _SubParsersAction, which it does not export


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def command(
    sub: Subparsers, name: str, help: str, example: str, func: Command | None = None
) -> argparse.ArgumentParser:
    """A (sub)command whose --help says what it does and shows one example."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=help[:1].upper() + help[1:] + ".",
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if func is not None:
        parser.set_defaults(func=func)
    return parser


def group(sub: Subparsers, name: str, help: str) -> Subparsers:
    """A command group such as `seatflow events …`."""
    parser = sub.add_parser(name, help=help, description=help[:1].upper() + help[1:] + ".")
    return parser.add_subparsers(dest=name, required=True, metavar="COMMAND")
