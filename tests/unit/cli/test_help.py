"""Every `seatflow` command explains itself: a description and an example in its --help."""

from __future__ import annotations

import argparse

import pytest

from cli.main import build_parser


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.extend(_commands(child, (*path, name)))
    return found or [(path, parser)]


COMMANDS = _commands(build_parser())


def test_every_group_of_the_layout_is_a_command() -> None:
    groups = {path[0] for path, _ in COMMANDS}
    assert groups >= {
        "org", "member", "token", "catalog", "discount", "events",
        "reconcile", "drift", "license", "surcharge", "db", "dev",
    }  # fmt: skip


@pytest.mark.parametrize(("path", "parser"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_has_a_description_and_an_example(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    text = parser.format_help()
    assert parser.description, path
    assert "example:\n  seatflow " + path[0] in text, text
