"""The inbox repository on SQLite: what the sweeper, recovery and operators ask of it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from inbox.states import InboxState
from inbox.table import inbox, inbox_row
from tests.builders import subscription_event

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def uow(sqlite_settings) -> SqlUnitOfWork:
    return SqlUnitOfWork(make_engine(sqlite_settings))


def add(uow: SqlUnitOfWork, n: int, event_type: str = "customer.subscription.updated") -> str:
    event = subscription_event("cus_x", created=1_700_000_000 + n)
    event["id"], event["type"] = f"evt_{n}", event_type
    with uow:
        uow.inbox.add([inbox_row(event, json.dumps(event), T0, None)])
        uow.commit()
    return str(event["id"])


def put(uow: SqlUnitOfWork, event_id: str, **values: object) -> None:
    with uow:
        uow.session.execute(update(inbox).where(inbox.c.event_id == event_id).values(**values))
        uow.commit()


def state(uow: SqlUnitOfWork, event_id: str) -> str | None:
    with uow:
        return uow.inbox.state_of(event_id)


def test_builder_rows_go_in_and_are_found_by_id_and_age(uow) -> None:
    a, b = add(uow, 1), add(uow, 2, "invoice.created")
    with uow:
        assert uow.inbox.known_ids([a, b, "evt_never"]) == {a, b}
        assert uow.inbox.newest_created() == 1_700_000_002
        assert uow.inbox.newest_event_id() == b
        assert uow.inbox.full_row(a)["secret_index"] is None
        assert uow.inbox.full_row("evt_never") is None
        assert [r["event_id"] for r in uow.inbox.listing(None, 10)] == [b, a]
        assert [r["event_id"] for r in uow.inbox.listing("ignored", 10)] == [b]
    assert state(uow, a) == InboxState.RECEIVED
    assert state(uow, b) == InboxState.IGNORED


def test_an_empty_inbox_has_no_newest_event(uow) -> None:
    with uow:
        assert uow.inbox.newest_created() is None
        assert uow.inbox.newest_event_id() is None
        assert uow.inbox.known_ids([]) == set()


def test_pending_rows_older_than_the_cutoff_are_listed_in_order_and_requeued(uow) -> None:
    old, queued, fresh, done = (add(uow, n) for n in range(4))
    put(uow, queued, state=InboxState.QUEUED.value)
    put(uow, fresh, updated_at=T0 + timedelta(minutes=10))
    put(uow, done, state=InboxState.APPLIED.value)
    with uow:
        assert uow.inbox.pending_older_than(T0 + timedelta(minutes=1), 10) == [old, queued]
        assert uow.inbox.pending_older_than(T0 + timedelta(minutes=1), 1) == [old]
        uow.inbox.requeue([old], T0 + timedelta(minutes=2))
        uow.commit()
    with uow:
        assert uow.inbox.pending_older_than(T0 + timedelta(minutes=1), 10) == [queued]
    assert state(uow, old) == InboxState.QUEUED


def test_dead_rows_are_found_by_id_type_and_time_then_reset_or_purged(uow) -> None:
    a, b, alive = add(uow, 1), add(uow, 2, "invoice.paid"), add(uow, 3)
    put(uow, a, state=InboxState.DEAD.value, last_error="boom")
    put(uow, b, state=InboxState.DEAD.value, received_at=T0 + timedelta(days=1))
    with uow:
        assert uow.inbox.dead_ids() == [a, b]
        assert uow.inbox.dead_ids(event_ids=[a, alive]) == [a]
        assert uow.inbox.dead_ids(types=["invoice.paid"]) == [b]
        assert uow.inbox.dead_ids(since=T0 + timedelta(hours=1)) == [b]
        assert uow.inbox.dead_ids(until=T0 + timedelta(hours=1)) == [a]
        uow.inbox.reset([a], T0)
        uow.commit()
    with uow:
        row = uow.inbox.get(a)
        assert row is not None and (row.state, row.last_error) == ("received", None)
        assert uow.inbox.purge_dead([a, b, alive]) == 1
        uow.commit()
    with uow:
        assert uow.inbox.known_ids([a, b, alive]) == {a, alive}


def test_finished_rows_are_counted_and_deleted_in_batches_before_a_cutoff(uow) -> None:
    ids = [add(uow, n) for n in range(5)]
    finished = ("applied", "ignored", "skipped_stale", "dead", "queued")
    for event_id, one in zip(ids, finished, strict=True):
        put(uow, event_id, state=one)
    cutoff = T0 + timedelta(seconds=1)
    with uow:
        assert uow.inbox.count_done_before(cutoff) == 3
        assert uow.inbox.count_done_before(T0) == 0
        assert uow.inbox.delete_done_before(cutoff, 2) == 2
        assert uow.inbox.delete_done_before(cutoff, 2) == 1
        uow.commit()
    with uow:
        assert uow.inbox.known_ids(ids) == set(ids[3:])


def test_marks_of_many_events_give_each_its_own_state_note_and_one_attempt(uow) -> None:
    from domain.ports import Mark

    ids = [add(uow, n) for n in range(1, 6)]
    put(uow, ids[4], attempts=2)
    later = T0 + timedelta(minutes=5)
    marks = [
        Mark(ids[0], "applied"),
        Mark(ids[1], "skipped_stale", "a newer state was applied"),
        Mark(ids[2], "applied"),
        Mark(ids[3], "ignored", "another account"),
        Mark(ids[4], "received", "RuntimeError: try again"),  # not done: no applied_at
    ]
    with uow:
        uow.inbox.mark_all(marks, later)
        uow.commit()
    with uow:
        rows = [uow.inbox.full_row(event_id) for event_id in ids]
    assert [(r["state"], r["last_error"], r["attempts"]) for r in rows] == [
        ("applied", None, 1),
        ("skipped_stale", "a newer state was applied", 1),
        ("applied", None, 1),
        ("ignored", "another account", 1),
        ("received", "RuntimeError: try again", 3),
    ]
    assert [r["applied_at"] for r in rows] == [later] * 4 + [None]
    assert {r["updated_at"] for r in rows} == {later}
