"""The single-event task's retry policy, run by Celery itself (eagerly, in this process): a
Stripe event that keeps failing is tried once and retried `TASK_MAX_RETRIES` times, its row
stays pending meanwhile, and only the last failure makes it `dead`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.stripe_errors import StripeUnavailable
from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from tests.builders import build_world, store_event, subscription_event
from tests.fakes import FakeGateway, FixedClock, fake_deps


@dataclass
class DownGateway(FakeGateway):
    """Stripe is down for the first `failures` reads (all of them if None): they fail as a
    timeout would. Each read notes the event's row state as the task found it."""

    failures: int | None = None
    states_seen: list[str] = field(default_factory=list)
    state_of: Any = None

    def retrieve(self, object_type: str, object_id: str) -> dict[str, Any]:
        self.states_seen.append(self.state_of())
        if self.failures is None or len(self.states_seen) <= self.failures:
            self.fetched.append((object_type, object_id))
            raise StripeUnavailable("read timed out", "api_connection_error")
        return super().retrieve(object_type, object_id)


@pytest.fixture
def worker(sqlite_settings, monkeypatch):
    """The real task module, its unit of work and deps pointed at this test's database and a
    Stripe that is down; the event is re-read from Stripe before it is applied."""
    import bootstrap
    from workers import tasks

    engine = make_engine(sqlite_settings)
    build_world(engine, with_subscription=False)
    event = subscription_event("cus_acme", seats=2)
    event_id = store_event(engine, event)

    def row() -> tuple[str, int]:
        with SqlUnitOfWork(engine) as uow:
            found = uow.inbox.get(event_id)
            assert found is not None
            return found.state, found.attempts

    gateway = DownGateway(state_of=lambda: row()[0])
    gateway.objects[event["data"]["object"]["id"]] = event["data"]["object"]
    deps = fake_deps(FixedClock(datetime(2022, 1, 11, tzinfo=UTC)), gateway, verify_by_fetch=True)
    runtime = bootstrap.runtime()  # the worker's
    monkeypatch.setattr(runtime, "unit_of_work", lambda: SqlUnitOfWork(engine))
    monkeypatch.setitem(vars(runtime), "deps", deps)
    return tasks, event_id, gateway, row


def test_a_failing_event_is_retried_task_max_retries_times_before_it_is_dead(worker) -> None:
    tasks, event_id, gateway, row = worker
    retries = tasks._settings.task_max_retries  # TASK_MAX_RETRIES, as the worker read it
    assert retries >= 1

    result = tasks.process_stripe_event.apply(args=[event_id])

    assert result.failed()
    # the first try and each retry, every one finding the event still to apply
    assert gateway.states_seen == ["received"] * (1 + retries)
    assert row() == ("dead", 1 + retries)


def test_an_event_that_succeeds_on_a_retry_is_applied_not_dead(worker) -> None:
    tasks, event_id, gateway, row = worker
    gateway.failures = 2

    assert tasks.process_stripe_event.apply(args=[event_id]).get() == "applied"

    assert gateway.states_seen == ["received", "received", "received"]
    assert row() == ("applied", 3)
