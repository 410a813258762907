"""The README and docs/ name only what is real: every `seatflow …` command answers `--help`
and the complete ones of code blocks parse with their options and values; every `make …`
is a target of the Makefile; every `python -m …` a module; every environment variable one that
`Settings.from_env` reads or that a process, the Makefile or a test reads; every link between
the documents reaches a file and a heading. The README links each document."""

from __future__ import annotations

import importlib.util
import re
import shlex
from collections.abc import Iterator, Mapping
from contextlib import suppress
from pathlib import Path

import pytest

from cli.main import build_parser
from config.settings import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GUIDE = DOCS / "operations.md"
DOCUMENTS = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def blocks(markdown: str) -> list[str]:
    """The code blocks, a line continued with `\\` joined to the next."""
    found = re.findall(r"^```[a-z]*\n(.*?)^```", markdown, re.M | re.S)
    return [re.sub(r"\\\n\s*", " ", block) for block in found]


def spans(markdown: str) -> list[str]:
    """The inline code spans of the prose (outside code blocks)."""
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)
    return re.findall(r"`([^`\n]+)`", prose)


def code(markdown: str) -> list[str]:
    """Each line of the code blocks and each inline code span."""
    return [line for block in blocks(markdown) for line in block.splitlines()] + spans(markdown)


# `seatflow …`

# Up to a pipe or a redirection (a `|` between words; `a|b` in brackets is a choice).
SEATFLOW = re.compile(r"^(?:\.venv/bin/)?(seatflow\s.*?)(?=\s[|&>]|$)")


def complete(markdown: str) -> list[str]:
    """The `seatflow …` commands of code blocks: each line (without a trailing `# comment`),
    split at `;`, that starts with `seatflow`, up to a pipe or redirection."""
    found: list[str] = []
    for block in blocks(markdown):
        for line in block.splitlines():
            for part in line.split(" #")[0].split(";"):
                found += SEATFLOW.findall(part.strip())
    return [command.strip() for command in found]


def commands(markdown: str) -> list[str]:
    """Every `seatflow …` command: those of code blocks and inline code spans."""
    inline = [m for span in spans(markdown) for m in SEATFLOW.findall(span.split(";")[0])]
    return complete(markdown) + inline


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


def top_level_options(args: list[str]) -> bool:
    """`seatflow --version`, `seatflow --debug COMMAND …`, `seatflow COMMAND --help`,
    `seatflow … | head`: the command's own options, or any command."""
    known = build_parser()._option_string_actions
    return bool(args) and (args[0] in known or args[0] in ("COMMAND", "x"))


def every(extract: object) -> list[tuple[str, str]]:
    """(document, item) for each item `extract(markdown)` finds in each document."""
    return sorted({(name(d), item) for d in DOCUMENTS for item in extract(read(d))})  # type: ignore[operator]


def test_the_guide_names_seatflow_commands() -> None:
    assert len(complete(read(GUIDE))) >= 15


@pytest.mark.parametrize("document, command", every(commands))
def test_each_seatflow_command_names_a_command(document: str, command: str) -> None:
    args = words(command)
    assert subcommand(args) or top_level_options(args), f"{document}: {command!r}"


@pytest.mark.parametrize("document, command", every(complete))
def test_each_command_of_the_code_blocks_parses_as_written(document: str, command: str) -> None:
    try:
        build_parser().parse_args(words(command))
    except SystemExit as done:  # 2 for an unknown option or value; 0 for --version, --help
        assert done.code == 0, f"{document}: {command!r}"


@pytest.mark.parametrize(
    "chosen", sorted({" ".join(subcommand(words(c))) for d in DOCUMENTS for c in commands(read(d))})
)
def test_each_command_named_answers_help(chosen: str, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*chosen.split(), "--help"])
    assert done.value.code == 0
    assert f"seatflow {chosen}".strip() in " ".join(capsys.readouterr().out.split())


# `make …` and `python -m …`


def make_targets(markdown: str) -> set[str]:
    return {
        m for line in code(markdown) for m in re.findall(r"(?:^|[\s;(])make ([a-z][\w-]*)", line)
    }


def modules(markdown: str) -> set[str]:
    return {m for line in code(markdown) for m in re.findall(r"python3? -m ([\w.]+)", line)}


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))


@pytest.mark.parametrize("document, target", every(make_targets))
def test_each_make_command_is_a_target_of_the_makefile(document: str, target: str) -> None:
    assert target in makefile_targets(), f"{document}: `make {target}`"


@pytest.mark.parametrize("document, module", every(modules))
def test_each_python_module_named_exists(document: str, module: str) -> None:
    assert importlib.util.find_spec(module) is not None, f"{document}: `python -m {module}`"


def test_the_documents_name_the_two_commands_and_the_benchmarks() -> None:
    named = {t for d in DOCUMENTS for t in make_targets(read(d))}
    assert {"run", "test", "check", "soak", "bench", "lock", "audit"} <= named
    assert {"bench.report", "bench.pipeline", "bench.burst"} <= {
        m for d in DOCUMENTS for m in modules(read(d))
    }


# Environment variables

VARIABLE = r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+"


def variables(markdown: str) -> set[str]:
    """The environment variables a document names in code: a span that is one, `NAME=…`,
    `$NAME`, `${NAME…}`; on a `seatflow …` line only the last three (its arguments, such as
    `TOKEN_ID`, are placeholders)."""
    found: set[str] = set()
    for line in code(markdown):
        found |= set(re.findall(rf"(?<![\w.])({VARIABLE})=", line))
        found |= set(re.findall(rf"\$\{{?({VARIABLE})", line))
        if not SEATFLOW.match(line.strip()):
            found |= set(re.findall(rf"(?<![\w./-])({VARIABLE})(?![\w.(/-])", line))
    return found


class Recorder(Mapping[str, str]):
    """An empty environment that notes every name asked of it."""

    def __init__(self, **values: str) -> None:
        self.values, self.asked = values, set[str]()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def settings_variables() -> set[str]:
    """What `Settings.from_env` reads, in development and in production."""
    asked: set[str] = set()
    for mode in ("development", "production"):
        env = Recorder(SEATFLOW_ENV=mode)
        with suppress(ConfigError):  # production without its secrets: each was asked for
            Settings.from_env(env)
        asked |= env.asked
    return asked


def process_variables() -> set[str]:
    """What the processes, the Makefile, the scripts and the tests read from the environment
    besides the settings: `os.environ.get("NAME")`, `getenv`, `${NAME…}`, `$(NAME)`,
    `NAME ?=`, and the names `config/` holds as strings (the fault points)."""
    files = [ROOT / "Procfile", ROOT / "Makefile", ROOT / ".ci" / "run"]
    for folder in ("scripts", "deploy", "config", "cli", "workers", "tests", "bench"):
        files += [
            p for p in (ROOT / folder).rglob("*") if p.is_file() and "node_modules" not in p.parts
        ]
    found: set[str] = set()
    for path in files:
        if path.suffix in (".md", ".json", ".pyc") or path == Path(__file__):
            continue
        text = path.read_text(errors="replace")
        found |= set(re.findall(rf"(?:environ\.get\(|environ\[|getenv\()\"({VARIABLE})\"", text))
        for braced, made in re.findall(rf"\$\$?\{{?({VARIABLE})|\$\(({VARIABLE})\)", text):
            found.add(braced or made)
        found |= set(re.findall(rf"^({VARIABLE})\s*\?=", text, re.M))
        if path.parts[-2] == "config" and path.suffix == ".py":
            found |= set(re.findall(rf"\"({VARIABLE})\"", text))
    return found


KNOWN = settings_variables() | process_variables()


@pytest.mark.parametrize("document, variable", every(variables))
def test_each_variable_named_is_read_by_seatflow_or_its_processes(
    document: str, variable: str
) -> None:
    assert variable in KNOWN, f"{document} names {variable}, which nothing reads"


def test_a_made_up_variable_is_not_taken_for_a_real_one() -> None:
    named = variables("Set `SEATFLOW_NO_SUCH_THING=1` and `${OTHER_MADE_UP}`; `PRICE_ID`.")
    assert named == {"SEATFLOW_NO_SUCH_THING", "OTHER_MADE_UP", "PRICE_ID"}
    assert not named & KNOWN
    assert "PRICE_ID" not in variables("```sh\nseatflow catalog remove PRICE_ID\n```\n")


def test_every_setting_is_in_the_configuration_reference() -> None:
    reference = variables(read(DOCS / "configuration.md"))
    assert settings_variables() - {"HOME"} <= reference


# Links between the documents


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of `markdown` (outside code blocks)."""
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.*)", prose, re.M):
        found.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return found


def links(markdown: str) -> set[str]:
    return {
        target
        for target in re.findall(r"\]\(([^)\s]+)\)", markdown)
        if not target.startswith(("http://", "https://", "mailto:"))
    }


@pytest.mark.parametrize("document, link", every(links))
def test_each_link_reaches_a_file_and_a_heading(document: str, link: str) -> None:
    path, _, anchor = link.partition("#")
    target = (ROOT / document).parent / path if path else ROOT / document
    assert target.exists(), f"{document}: {link} (no {target.relative_to(ROOT)})"
    if anchor:
        assert anchor in anchors(read(target)), f"{document}: {link} (no such heading)"


def test_the_readme_links_every_document() -> None:
    readme = read(ROOT / "README.md")
    for document in DOCS.glob("*.md"):
        assert f"(docs/{document.name})" in readme, document.name
