"""The example systemd units in deploy/systemd/ run commands that exist, as the Procfile runs
them: each executable is one the wheel installs, each file they name is one it ships under
share/seatflow, the options parse, and every variable they set is one seatflow reads."""

from __future__ import annotations

import configparser
import glob
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from gunicorn.config import Config

ROOT = Path(__file__).resolve().parents[3]
UNITS = ROOT / "deploy" / "systemd"
PREFIX = "/opt/seatflow"  # the virtual environment the units assume
BIN = Path(sys.executable).parent
PROCESSES = ("web", "api", "worker", "beat")


def unit(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((UNITS / f"seatflow-{name}.service").read_text())
    return parser["Service"]


def exec_start(name: str) -> list[str]:
    return shlex.split(unit(name)["ExecStart"].replace("%%", "%"))


def procfile(name: str) -> list[str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    line = next(x for x in lines if x.startswith(f"{name}:")).split(":", 1)[1]
    return shlex.split(re.sub(r"\b[A-Z_]+=(\$\([^)]*\)|\S+)\s*", "", line))


def installed_data() -> set[str]:
    """Paths, relative to share/seatflow, that the wheel installs there."""
    files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    shipped = set()
    for target, patterns in files["data-files"].items():
        for pattern in patterns:
            for path in glob.glob(pattern, root_dir=ROOT):
                shipped.add(f"{target}/{Path(path).name}".removeprefix("share/seatflow/"))
    return shipped


def test_there_is_a_unit_per_process_and_one_for_the_release() -> None:
    names = {p.name for p in UNITS.glob("*.service")}
    assert names == {f"seatflow-{n}.service" for n in (*PROCESSES, "release")}


@pytest.mark.parametrize("name", [*PROCESSES, "release"])
def test_each_unit_runs_an_installed_command_on_shipped_files(name: str) -> None:
    args = exec_start(name)
    assert args[0].startswith(f"{PREFIX}/bin/"), args
    assert (BIN / args[0].removeprefix(f"{PREFIX}/bin/")).exists(), args[0]
    for arg in args[1:]:
        if arg.startswith(PREFIX):
            shipped = arg.removeprefix(f"{PREFIX}/share/seatflow/")
            assert shipped in installed_data(), f"{arg} is not installed by the wheel"
            assert (ROOT / shipped).is_file()
    service = unit(name)
    assert service["User"] == service["Group"] == "seatflow"  # never root
    assert "/etc/seatflow/seatflow.env" in service["EnvironmentFile"]


@pytest.mark.slow  # starts a process
@pytest.mark.parametrize("name", ["worker", "beat", "release"])
def test_the_celery_and_seatflow_units_parse_with_help(name: str) -> None:
    args = [str(BIN / Path(exec_start(name)[0]).name), *exec_start(name)[1:], "--help"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Usage" in done.stdout or "usage" in done.stdout


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_the_celery_units_run_what_the_procfile_runs(name: str) -> None:
    assert [Path(exec_start(name)[0]).name, *exec_start(name)[1:]] == procfile(name)


@pytest.mark.parametrize(("name", "factory"), [("web", "webhooks"), ("api", "api")])
def test_the_gunicorn_units_parse_and_serve_the_procfiles_app(name: str, factory: str) -> None:
    args = exec_start(name)[1:]
    parsed = Config().parser().parse_args(args)
    assert parsed.args == [f"{factory}:create_app()"] == procfile(name)[-1:]
    assert parsed.worker_class == "gthread"
    module = __import__(factory)
    assert callable(module.create_app)


def test_every_variable_the_units_set_is_one_seatflow_reads() -> None:
    example = (ROOT / ".env.example").read_text()
    known = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    for name in (*PROCESSES, "release"):
        for line in (UNITS / f"seatflow-{name}.service").read_text().splitlines():
            if line.startswith("Environment="):
                variable = line.removeprefix("Environment=").split("=", 1)[0]
                assert variable in known, f"seatflow-{name}: {variable} is not a setting"
