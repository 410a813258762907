"""Redrive, purge and retention of the inbox, on the SQL repository (SQLite): the states,
times and batched deletes as the database does them (the same on the fakes:
tests/unit/services/test_inbox.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from adapters.unit_of_work import SqlUnitOfWork
from config.celery import make_celery
from config.database import make_engine
from inbox.table import inbox
from services import admin
from tests.builders import store_event, subscription_event


@pytest.fixture
def engine(sqlite_settings):
    return make_engine(sqlite_settings)


def add(
    engine,
    state: str,
    event_type: str = "customer.subscription.updated",
    received: datetime | None = None,
) -> str:
    event = subscription_event("cus_x", created=1)
    event["type"] = event_type
    event_id = store_event(engine, event)
    values = {"state": state, "last_error": "boom" if state == "dead" else None}
    if received:
        values |= {"received_at": received, "updated_at": received}
    with engine.begin() as conn:
        conn.execute(update(inbox).where(inbox.c.event_id == event_id).values(**values))
    return event_id


def states(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(inbox.c.event_id, inbox.c.state)).all())


def test_redrive_by_id_type_and_time_with_dry_run(engine, sqlite_settings) -> None:
    celery = make_celery(sqlite_settings)
    jan, feb = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 2, 5, tzinfo=UTC)
    a = add(engine, "dead", received=jan)
    b = add(engine, "dead", "invoice.paid", received=feb)
    c = add(engine, "dead", received=feb)
    done = add(engine, "applied")
    uow = SqlUnitOfWork(engine)
    assert admin.redrive(uow, celery, event_ids=[a], dry_run=True) == [a]
    assert states(engine)[a] == "dead"
    assert admin.redrive(uow, celery, types=["invoice.paid"]) == [b]
    assert admin.redrive(uow, celery, since=datetime(2026, 2, 1, tzinfo=UTC)) == [c]
    assert admin.redrive(uow, celery, event_ids=[done]) == []
    assert states(engine) == {a: "dead", b: "received", c: "received", done: "applied"}
    assert admin.purge_dead(uow, [a, done]) == 1
    assert a not in states(engine)


def test_retention_prunes_finished_rows_in_batches_and_keeps_dead_ones(engine) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    finished = [
        add(engine, state, received=old)
        for state in ("applied", "ignored", "skipped_stale", "applied", "applied")
    ]
    kept = [
        add(engine, "dead", received=old),
        add(engine, "received", received=old),
        add(engine, "applied"),
    ]
    assert admin.prune_applied(SqlUnitOfWork(engine), timedelta(days=30), dry_run=True) == 5
    assert admin.prune_applied(SqlUnitOfWork(engine), timedelta(days=30), batch=2) == 5
    assert set(states(engine)) == set(kept)
    assert not set(finished) & set(states(engine))
