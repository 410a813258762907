"""`seatflow`: the command line for operators and developers, one module per command group."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from importlib import metadata

from cli import (
    catalog,
    change,
    db,
    dev,
    discount,
    drift,
    events,
    license,
    member,
    org,
    reconcile,
    stripe,
    surcharge,
    token,
)

GROUPS = (
    dev,
    db,
    org,
    member,
    token,
    catalog,
    discount,
    change,
    events,
    reconcile,
    drift,
    license,
    stripe,
)


def _version() -> str:
    try:
        return metadata.version("seatflow")
    except metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seatflow", description=__doc__)
    parser.add_argument("--version", action="version", version=f"seatflow {_version()}")
    parser.add_argument(
        "--debug", action="store_true", help="on an error, show the traceback, not one line"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (*GROUPS, surcharge):
        module.register(sub)
    return parser


def _one_line(error: Exception) -> tuple[str, int]:
    """The message and exit status for an error, on one line with a hint where one helps;
    a configuration's problems one a line under it."""
    from adapters.errors import explain
    from config.settings import ConfigError
    from domain.errors import DomainError

    if isinstance(error, ConfigError):
        return error.report(), 2
    explained = explain(error)
    if explained is not None:
        return _joined(f"error: {explained}"), 1
    if isinstance(error, DomainError | ValueError | OSError):
        return _joined(f"error: {error}"), 1
    name = type(error).__name__
    return _joined(f"error: {name}: {error}; hint: `seatflow --debug …` shows the traceback"), 1


def _joined(message: str) -> str:
    return " ".join(message.split())


def _reader_gone() -> int:
    """`seatflow … | head`: the reader took what it wanted and left. Say nothing (as `cat`
    does), and point stdout at /dev/null so the interpreter's last flush finds no pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = int(args.func(args))
        sys.stdout.flush()  # a reader gone shows here, not in the interpreter's exit
        return status
    except BrokenPipeError:
        raise
    except Exception as error:
        if args.debug:
            raise
        message, status = _one_line(error)
        print(message, file=sys.stderr)
        return status


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(argv)
    except BrokenPipeError:
        return _reader_gone()


if __name__ == "__main__":
    raise SystemExit(main())
