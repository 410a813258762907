"""Redrive, purge and retention of the inbox, on the fakes (the SQL repository's own
statements: tests/unit/adapters/test_inbox_operations.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from config.tasks import PROCESS_STRIPE_EVENT
from services import admin
from tests.builders import store_event, subscription_event
from tests.fakes import FakeUnitOfWork


class Sender:
    """A Celery app as `admin.redrive` sees it: what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[Any]]] = []

    def send_task(self, name: str, args: list[Any], retry: bool) -> object:
        self.sent.append((name, args))
        return None


def add(
    uow: FakeUnitOfWork,
    state: str,
    event_type: str = "customer.subscription.updated",
    received: datetime | None = None,
) -> str:
    event = subscription_event("cus_x", created=1)
    event["type"] = event_type
    event_id = store_event(uow, event)
    row = next(r for r in uow.inbox.rows if r["event_id"] == event_id)
    row.update(state=state, last_error="boom" if state == "dead" else None)
    if received:
        row.update(received_at=received, updated_at=received)
    return event_id


def states(uow: FakeUnitOfWork) -> dict[str, str]:
    return {r["event_id"]: r["state"] for r in uow.inbox.rows}


def test_redrive_by_id_type_and_time_with_dry_run(uow) -> None:
    celery = Sender()
    jan, feb = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 2, 5, tzinfo=UTC)
    a = add(uow, "dead", received=jan)
    b = add(uow, "dead", "invoice.paid", received=feb)
    c = add(uow, "dead", received=feb)
    done = add(uow, "applied")
    assert admin.redrive(uow, celery, event_ids=[a], dry_run=True) == [a]
    assert states(uow)[a] == "dead" and celery.sent == []
    assert admin.redrive(uow, celery, types=["invoice.paid"]) == [b]
    assert admin.redrive(uow, celery, since=datetime(2026, 2, 1, tzinfo=UTC)) == [c]
    assert admin.redrive(uow, celery, event_ids=[done]) == []
    assert states(uow) == {a: "dead", b: "received", c: "received", done: "applied"}
    assert celery.sent == [(PROCESS_STRIPE_EVENT, [b]), (PROCESS_STRIPE_EVENT, [c])]
    assert uow.inbox.get(b).last_error is None  # its last error forgotten
    assert admin.not_redriven(uow, [a, done, "evt_none"], [b, c]) == {
        a: "dead",
        done: "applied",
        "evt_none": None,
    }
    assert admin.purge_dead(uow, [a, done]) == 1
    assert a not in states(uow)


def test_retention_prunes_finished_rows_in_batches_and_keeps_dead_ones(uow) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    finished = [
        add(uow, state, received=old)
        for state in ("applied", "ignored", "skipped_stale", "applied", "applied")
    ]
    kept = [add(uow, "dead", received=old), add(uow, "received", received=old), add(uow, "applied")]
    assert admin.prune_applied(uow, timedelta(days=30), dry_run=True) == 5
    assert set(states(uow)) == set(finished) | set(kept)
    commits = uow.committed
    assert admin.prune_applied(uow, timedelta(days=30), batch=2) == 5
    assert uow.committed - commits == 3  # 2 + 2 + 1, one transaction each
    assert set(states(uow)) == set(kept)
