"""`pip install .` gives a working product: the wheel, installed in a fresh virtual environment
outside the checkout, migrates a database, serves the pages with their static files, and
applies a signed event, with the templates, example catalog and migrations it carries."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
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
