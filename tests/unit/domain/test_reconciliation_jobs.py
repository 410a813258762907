"""The reconciliation jobs are listed once; the CLI, the runner and the drift kinds follow."""

from __future__ import annotations

import inspect

from domain.reconciliation_jobs import DRIFT_KINDS, JOBS
from services import reconciliation


def test_every_listed_job_runs_in_the_listed_order() -> None:
    assert tuple(job.name for job in JOBS) == reconciliation.JOBS
    source = inspect.getsource(reconciliation.run_all)
    for job in JOBS:
        assert f'"{job.name}": lambda' in source, f"no runner for {job.name}"


def test_the_cli_offers_every_job_label_and_every_drift_kind() -> None:
    from cli.reconcile import JOB_LABELS

    assert set(JOB_LABELS) == {job.progress for job in JOBS}
    assert set(DRIFT_KINDS) >= {job.drift for job in JOBS}
    assert "payment" in DRIFT_KINDS
