"""`seatflow reconcile` runs every job even when one fails, reports the failed ones, and its
progress counts what its summary counts (on SQLite: no server needed)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from adapters import migrations
from adapters.stripe_gateway import StripeUnavailable
from adapters.unit_of_work import SqlUnitOfWork
from services import reconciliation
from tests.builders import build_world, subscription_event
from tests.fakes import FakeGateway, fake_deps
from tests.support import ROOT


@dataclasses.dataclass
class ListingGateway(FakeGateway):
    """Stripe's lists: subscriptions (or a failure), and events."""

    subscriptions: list[dict[str, Any]] | None = None
    events: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def list_subscriptions(self, customer: str | None = None) -> Iterator[list[dict[str, Any]]]:
        if self.subscriptions is None:
            raise StripeUnavailable("APIConnectionError: connection refused")
        yield self.subscriptions

    def list_events(self, **params: Any) -> Iterator[list[dict[str, Any]]]:
        yield self.events


@pytest.fixture
def uow(tmp_path: Path) -> Iterator[SqlUnitOfWork]:
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    migrations.upgrade(url)
    engine = create_engine(url)
    build_world(engine)
    yield SqlUnitOfWork(engine, enqueue=lambda name, args: None)
    engine.dispose()


def test_a_failing_job_does_not_stop_the_others_and_is_reported(uow: SqlUnitOfWork) -> None:
    event = subscription_event("cus_acme", seats=5)
    deps = fake_deps(gateway=ListingGateway(subscriptions=None, events=[event]))
    summary = reconciliation.run_all(uow, deps)
    assert list(summary.failed) == ["stripe_state"]
    assert "Stripe is unreachable" in summary.failed["stripe_state"]
    assert summary.checked["events"] == 1  # the job after the failed one ran


def test_progress_counts_what_the_summary_counts(uow: SqlUnitOfWork) -> None:
    subscription = subscription_event("cus_acme", seats=5)["data"]["object"]
    deps = fake_deps(gateway=ListingGateway(subscriptions=[subscription]))
    seen: dict[str, tuple[int, int | None]] = {}

    def progress(job: str, done: int, total: int | None) -> None:
        seen[job] = (done, total)

    summary = reconciliation.run_all(uow, deps, progress=progress)
    assert summary.checked["stripe_state"] == 1
    assert seen["stripe_state"] == (1, 1)
    assert {job: done for job, (done, _) in seen.items()} == {
        job: summary.checked.get(job, 0) for job in seen
    }


def test_the_command_reports_failed_jobs_in_one_line_with_a_hint(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env.update(
        SEATFLOW_DATA_DIR=str(tmp_path),
        STRIPE_API_BASE="http://127.0.0.1:9",  # nothing listens on the discard port
        STRIPE_READ_RATE="1000",
    )
    seatflow = [sys.executable, "-m", "cli.main"]
    subprocess.run([*seatflow, "db", "upgrade"], cwd=ROOT, env=env, check=True, timeout=60)
    done = subprocess.run(
        [*seatflow, "reconcile"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stdout + done.stderr
    failed = [line for line in done.stdout.splitlines() if line.startswith("failed:")]
    assert [line.split()[1] for line in failed] == ["stripe_state:", "missed_events:"], done.stdout
    assert all("Stripe is unreachable" in line and "hint:" in line for line in failed)
    assert "job" in done.stdout  # the summary table is still printed
    assert "Traceback" not in done.stderr
