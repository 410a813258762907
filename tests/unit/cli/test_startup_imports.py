"""`seatflow` starts without what only some commands use: the Stripe SDK (signing a sample,
talking to Stripe), Alembic (migrating) and Celery (sending a task) are loaded by those
commands, so every other one starts about four tenths of a second sooner."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow  # starts a process


def test_the_command_line_starts_without_the_stripe_sdk_alembic_or_celery() -> None:
    probe = (
        "import json, sys, cli.main; "
        "late = ('stripe', 'alembic', 'celery', 'kombu'); "
        "print(json.dumps(sorted(m for m in late if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
