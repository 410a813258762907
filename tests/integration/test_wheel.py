"""`pip install .` gives a working product: the wheel, installed in a fresh virtual environment
outside the checkout, migrates a database, serves the pages with their static files, and
applies a signed event, with the templates, example catalog and migrations it carries. The
wheel and the sdist both carry what runs it in production (the Procfile and deploy/, which
the wheel installs under `share/seatflow/`), the license and the changelog."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tarfile
import tomllib
import urllib.request
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from tests.support import ROOT, free_port, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def sh(args: list[str | Path], cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def shipped() -> list[str]:
    """What runs seatflow in production, as paths in the repository: the Procfile and every
    file of deploy/ that git knows."""
    listed = subprocess.run(
        ["git", "ls-files", "deploy"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(listed) >= 6, listed
    return ["Procfile", *listed]


def test_the_wheel_installs_the_procfile_and_deploy_with_the_license(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    sh([*pip, "wheel", "-q", "--no-deps", ROOT, "-w", tmp_path], tmp_path, env)
    [wheel] = tmp_path.glob("seatflow-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = next(n for n in names if ".data/data/share/seatflow/" in n).split("share/seatflow/")[0]
    for path in shipped():
        assert f"{data}share/seatflow/{path}" in names, path
    info = next(n.rpartition("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    assert f"{info}/licenses/LICENSE" in names
    metadata = Parser().parsestr(zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode())
    assert metadata["License-Expression"] == "Apache-2.0"
    assert (
        metadata["Version"]
        == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    )


def test_the_sdist_carries_the_procfile_deploy_license_and_changelog(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    sh([sys.executable, "-m", "build", "--sdist", "--outdir", tmp_path, ROOT], tmp_path, env, 240)
    [sdist] = tmp_path.glob("seatflow-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.partition("/")[2] for name in archive.getnames()}
    for path in [*shipped(), "LICENSE", "CHANGELOG.md"]:
        assert path in names, path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a new virtual environment holding only the wheel and its deps."""
    where = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    sh([*pip, "wheel", "-q", "--no-deps", ROOT, "-w", where / "dist"], where, env)
    [wheel] = (where / "dist").glob("seatflow-*.whl")
    sh([sys.executable, "-m", "venv", "--without-pip", where / "venv"], where, env)
    python = where / "venv" / "bin" / "python"
    sh([*pip, "--python", python, "install", "-q", "--no-compile", wheel], where, env, 240)
    return python.parent


def product_env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "CELERY_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(
        SEATFLOW_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
        WORKER_METRICS_PORT="0",
        BEAT_METRICS_PORT="0",
    )
    return env


def status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        return int(response.status)


def test_the_installed_wheel_is_the_whole_product(installed: Path, tmp_path: Path) -> None:
    cwd, env = tmp_path, product_env(tmp_path / "var")
    where = sh([installed / "python", "-c", "import api, cli; print(api.__file__)"], cwd, env)
    assert str(installed.parent) in where  # the installed copy, not the checkout
    assert sh([installed / "seatflow", "--version"], cwd, env).strip() == "seatflow 0.1.0"
    assert "newest migration" in sh([installed / "seatflow", "db", "upgrade"], cwd, env)

    port = free_port()
    api_port = free_port()
    dev = subprocess.Popen(
        [installed / "seatflow", "dev", "--demo", "--port", str(port), "--api-port", str(api_port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        assert dev.stdout is not None
        for line in dev.stdout:
            lines.append(line)
            if line.startswith("=" * 78) and sum(x.startswith("=" * 78) for x in lines) == 2:
                break  # the block that ends the start-up output
        output = "".join(lines)
        assert re.search(r"demo: organization \S+ created", output), output[-3000:]
        assert re.search(r"^demo: event \S+ is applied$", output, re.M), output[-3000:]
        assert re.search(r"^sf_\S+$", output, re.M), output[-3000:]  # the owner's token
        assert status(f"http://127.0.0.1:{api_port}/signin") == 200
        assert status(f"http://127.0.0.1:{api_port}/static/app.css") == 200
    finally:
        os.killpg(dev.pid, signal.SIGINT)
        wait_until(lambda: dev.poll() is not None, 10)
        assert dev.stdout is not None
        dev.stdout.close()
