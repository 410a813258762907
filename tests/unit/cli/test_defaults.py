"""What docs/development.md promises of `seatflow dev`'s ports, and docs/operations.md of
`seatflow reconcile`'s progress."""

from __future__ import annotations

from rich.console import Console
from rich.progress import TimeRemainingColumn

from cli import reconcile
from cli.main import build_parser


def test_dev_serves_the_receiver_on_8000_and_the_pages_and_api_on_the_next_port() -> None:
    args = build_parser().parse_args(["dev"])
    assert (args.port, args.api_port) == (8000, 0)  # 0: --port + 1


def test_reconcile_progress_shows_count_rate_and_time_left() -> None:
    bar = reconcile.progress_bar(Console(force_terminal=False))
    kinds = {type(column) for column in bar.columns}
    assert {reconcile.RateColumn, TimeRemainingColumn} <= kinds
