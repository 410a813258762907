"""A process that cannot start for its configuration says why in a few lines, one problem a
line, and exits non-zero: no traceback around the message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow  # every test here starts a process

CELERY = str(Path(sys.executable).with_name("celery"))
BROKEN = {
    "SEATFLOW_ENV": "production",
    "DATABASE_URL": "mysql://u@db/seatflow",
    "STRIPE_WEBHOOK_TOLERANCE": "-1",
}


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env.update(BROKEN, PYTHONPATH=str(ROOT), SEATFLOW_DATA_DIR=str(tmp_path))
    return subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_a_celery_process_with_a_bad_configuration_prints_only_the_problems(
    tmp_path: Path, command: str
) -> None:
    done = run([CELERY, "-A", "workers.app", command], tmp_path)
    assert done.returncode == 2, done.stderr
    out = done.stdout + done.stderr
    assert "Traceback" not in out
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("configuration error: seatflow cannot start"), lines
    problems = [line for line in lines[1:] if line.startswith("  - ")]
    assert len(problems) == len(lines) - 1 >= 6, lines
    assert any(line.startswith("  - DATABASE_URL: ") for line in problems)
    assert any(line.startswith("  - STRIPE_WEBHOOK_TOLERANCE ") for line in problems)
