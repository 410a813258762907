"""Reading the environment: a development `.env` file under it, and a reader that notes
every problem it finds rather than stopping at the first (config/settings.py uses both)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

MODES = ("development", "test", "production")


def read_dotenv(path: Path) -> dict[str, str]:
    """`NAME=value` lines (an `export ` prefix, quotes and `# comments` allowed)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip().removeprefix("export ").strip()
        name, eq, value = line.partition("=")
        if not eq or line.startswith("#") or not name.strip().isidentifier():
            continue
        value = value.strip()
        if value[:1] in ("'", '"') and value[0] in value[1:]:
            value = value[1 : value.index(value[0], 1)]
        else:
            value = value.split(" #", 1)[0].strip()
        values[name.strip()] = value
    return values


def with_dotenv(env: Mapping[str, str], dotenv: Path | None) -> tuple[Mapping[str, str], str]:
    """`env` over the `.env` file's values, in development only (the file never overrides
    the environment, and production reads the environment alone), and the problem, if any.

    Whether this is development is the environment's to say, never the file's: a file that
    names another mode (a production `.env` left on a server whose shell does not set
    SEATFLOW_ENV) is refused and none of it is read, so neither its mode nor its keys apply."""
    mode = env.get("SEATFLOW_ENV", "").strip().lower()
    if dotenv is None or mode not in ("", "development") or not dotenv.is_file():
        return env, ""
    values = read_dotenv(dotenv)
    named = values.get("SEATFLOW_ENV", "").strip().lower()
    if named not in ("", "development"):
        return env, (
            f"{dotenv} sets SEATFLOW_ENV={named}, but a .env file is read in development "
            "only (and this one not at all): set SEATFLOW_ENV and the other settings in the "
            "environment, or remove the line"
        )
    return {**values, **env}, ""


class Reader:
    """Reads variables, noting every problem rather than stopping at the first."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []
        self.mode = self.raw("SEATFLOW_ENV").lower() or "development"
        if self.mode not in MODES:
            self.problem(f"SEATFLOW_ENV must be one of {', '.join(MODES)}, got {self.mode!r}")
        elif self.mode == "test":
            self.problem(
                "SEATFLOW_ENV=test is the test suite's own mode (set in its code; it runs on "
                "the published development secrets without a word): from the environment use "
                "development or production"
            )
        self.production = self.mode == "production"

    def problem(self, message: str) -> None:
        if message:  # "": no problem
            self.problems.append(message)

    def raw(self, name: str) -> str:
        return self.env.get(name, "").strip()

    def text(self, name: str, default: str) -> str:
        value = self.raw(name)
        if not value and self.production:
            self.problem(f"{name} is required when SEATFLOW_ENV=production")
        return value or default

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        raw = self.raw(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problem(f"{name} must be an integer, got {raw!r}")
            return default
        if value < minimum:
            self.problem(f"{name} must be at least {minimum}, got {value}")
            return default
        return value

    def choice(self, name: str, options: tuple[str, ...]) -> str:
        """One of `options` (the first when unset); a problem naming the variable otherwise."""
        value = self.raw(name).lower() or options[0]
        if value not in options:
            self.problem(f"{name} must be one of {', '.join(options)}, got {value!r}")
            return options[0]
        return value

    def flag_or_auto(self, name: str) -> bool | None:
        """True or false, or None for `auto` (and when unset)."""
        return None if self.raw(name).lower() in ("", "auto") else self.flag(name)

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.raw(name).lower()
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        if raw:
            self.problem(f"{name} must be true or false, got {raw!r}")
        return default
