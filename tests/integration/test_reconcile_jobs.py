"""`seatflow reconcile` runs every job even when one fails, reports the failed ones, and its
progress counts what its summary counts (on SQLite: no server needed)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from adapters import drift, migrations
from adapters.stripe_errors import StripeUnavailable
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


@dataclasses.dataclass
class PagedGateway(FakeGateway):
    """Stripe's subscriptions in pages, none of them of a customer seatflow knows."""

    pages: list[list[dict[str, Any]]] = dataclasses.field(default_factory=list)

    def list_subscriptions(self, customer: str | None = None) -> Iterator[list[dict[str, Any]]]:
        yield from self.pages

    def list_events(self, **params: Any) -> Iterator[list[dict[str, Any]]]:
        yield []


def test_progress_counts_the_subscriptions_read_from_stripe_not_the_local_matches(
    uow: SqlUnitOfWork,
) -> None:
    """1,200 subscriptions of other customers are read: the bar moves with every page."""
    strangers = [
        subscription_event(f"cus_{i}", sub_id=f"sub_{i}")["data"]["object"] for i in range(1200)
    ]
    pages = [strangers[i : i + 100] for i in range(0, 1200, 100)]
    deps = fake_deps(gateway=PagedGateway(pages=pages))
    seen: list[tuple[int, int | None]] = []

    def progress(job: str, done: int, total: int | None) -> None:
        if job == "stripe_state":
            seen.append((done, total))

    summary = reconciliation.run_all(uow, deps, progress=progress)
    assert summary.checked.get("stripe_state", 0) == 0  # none of them is seatflow's
    # Stripe's list does not say how many there are: no total until the job is done.
    assert seen[:12] == [(n, None) for n in range(100, 1201, 100)]
    assert seen[12:] == [(1200, 1200)]
    assert summary.read == {"stripe_state": 1200}
    assert "read from Stripe: 1200 subscription(s) in 12 page(s)" in drift.render_summary(summary)


def test_a_summary_with_nothing_found_still_shows_each_job_and_says_so(uow: SqlUnitOfWork) -> None:
    same = subscription_event("cus_acme")["data"]["object"]  # Stripe's, as seatflow has it
    summary = reconciliation.run_all(uow, fake_deps(gateway=PagedGateway(pages=[[same]])))
    lines = drift.render_summary(summary).splitlines()
    rows = {line[:18].strip(): line[18:].split() for line in lines[1:] if line[18:19] == " "}
    for job in ("estimate", "events", "saga"):
        assert rows.get(job) == ["0", "0", "0"], lines
    assert rows.get("stripe_state") == ["1", "0", "0"], lines  # checked, and the same
    assert "nothing differed: seatflow and Stripe agree" in lines


def test_the_json_drift_report_holds_before_and_after_as_objects(uow: SqlUnitOfWork) -> None:
    before, after = {"seats": 5, "status": "active"}, {"seats": 8, "status": "active"}
    with uow:
        uow.drift.record(
            datetime(2026, 1, 1, tzinfo=UTC),
            kind="stripe_state",
            subject="sub_1",
            cause="local state repaired from Stripe",
            before=before,
            after=after,
        )
        uow.commit()
    [row] = json.loads(drift.render(drift.rows(uow.engine), "json"))
    assert (row["before"], row["after"]) == (before, after)


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


@pytest.mark.parametrize("job", reconciliation.JOBS)
def test_every_job_runs_alone_and_its_progress_has_a_label(uow: SqlUnitOfWork, job: str) -> None:
    """A new job: its name in JOBS, its entry in run_all, its progress label in the CLI."""
    from cli.reconcile import JOB_LABELS

    kinds: list[str] = []
    summary = reconciliation.run_all(
        uow,
        fake_deps(gateway=PagedGateway()),
        jobs=[job],
        progress=lambda kind, done, total: kinds.append(kind),
    )
    assert summary.failed == {}
    assert kinds and set(kinds) <= set(JOB_LABELS)
