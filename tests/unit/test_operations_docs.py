"""docs/operations.md names only commands that exist: every `seatflow …` command in it
answers `--help`, and those of its code blocks (complete commands, to be run as written)
parse with their options and values. The README links the guide."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "operations.md"


def guide() -> str:
    return GUIDE.read_text() if GUIDE.exists() else ""


def complete(markdown: str) -> list[str]:
    """The `seatflow …` commands of code blocks: each line (without a trailing `# comment`),
    split at `;`, that starts with `seatflow`, up to a pipe or redirection."""
    found: list[str] = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", markdown, re.M | re.S):
        for line in block.splitlines():
            for part in line.split(" #")[0].split(";"):
                found += re.findall(r"^(seatflow\s[^|&>]*)", part.strip())
    return [command.strip() for command in found]


def commands(markdown: str) -> list[str]:
    """Every `seatflow …` command: those of code blocks and inline code spans."""
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)
    return complete(markdown) + re.findall(r"`(seatflow\s[^`]*)`", prose)


def words(command: str) -> list[str]:
    """The arguments, with `[--option]` taken as given and `a|b` as its first choice."""
    text = re.sub(r"\[([^\]]*)\]", r"\1", command).replace("…", "x")
    return [w.split("|")[0] for w in shlex.split(text)[1:]]


def subcommand(args: list[str]) -> list[str]:
    """The command words before the first option or argument value."""
    parser, chosen = build_parser(), []
    for word in args:
        actions = [a for a in parser._actions if a.choices and isinstance(a.choices, dict)]
        if not actions or word not in actions[0].choices:
            break
        parser = actions[0].choices[word]
        chosen.append(word)
    return chosen


def test_the_guide_names_seatflow_commands() -> None:
    assert len(complete(guide())) >= 15
    for command in commands(guide()):
        assert subcommand(words(command)), f"{command!r} names no seatflow command"


@pytest.mark.parametrize("command", sorted(set(complete(guide()))))
def test_each_command_of_the_guides_code_blocks_parses_as_written(command: str) -> None:
    build_parser().parse_args(words(command))  # SystemExit(2) on an unknown option or value


@pytest.mark.parametrize(
    "chosen", sorted({" ".join(subcommand(words(c))) for c in commands(guide())})
)
def test_each_command_of_the_guide_answers_help(chosen: str, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*chosen.split(), "--help"])
    assert done.value.code == 0
    assert f"seatflow {chosen}" in " ".join(capsys.readouterr().out.split())


def test_the_readme_links_the_guide() -> None:
    assert "(docs/operations.md)" in (ROOT / "README.md").read_text()
