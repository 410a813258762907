"""The test-only fault points: unarmed they do nothing; armed, the first arrival dies, once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import faults

pytestmark = pytest.mark.slow  # every test here starts a process

REACH = "from config import faults; faults.reached(faults.AFTER_COMMIT); print('went on')"


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SEATFLOW_FAULT_")}
    return subprocess.run(
        [sys.executable, "-c", REACH], env={**clean, **env}, capture_output=True, text=True
    )


def test_an_unarmed_point_lets_the_process_go_on() -> None:
    done = _run({})
    assert (done.returncode, done.stdout) == (0, "went on\n")


def test_an_armed_point_kills_the_first_process_only(tmp_path: Path) -> None:
    marker = tmp_path / "killed"
    first = _run({faults.AFTER_COMMIT: str(marker)})
    assert (first.returncode, first.stdout) == (faults.EXIT_CODE, "")
    assert marker.read_text().strip().isdigit()  # the pid of the process that died
    second = _run({faults.AFTER_COMMIT: str(marker)})
    assert (second.returncode, second.stdout) == (0, "went on\n")


def test_a_point_armed_for_another_step_does_not_fire(tmp_path: Path) -> None:
    done = _run({faults.AFTER_EFFECT: str(tmp_path / "killed")})
    assert (done.returncode, done.stdout) == (0, "went on\n")
    assert not (tmp_path / "killed").exists()
