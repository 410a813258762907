"""A task message's events in one transaction, and under load the stored events never tried
yet taken on with them: each event applied exactly once, in the order it arrived, the
messages naming them later finding them done without taking a lock."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, update

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from inbox.table import inbox
from services import stripe_events
from tests.builders import build_world, store_event, subscription_event
from tests.fakes import FakeGateway, fake_deps

DEPS = fake_deps()


@pytest.fixture
def engine(sqlite_settings) -> Engine:
    engine = make_engine(sqlite_settings)
    build_world(engine, with_subscription=False)
    return engine


def _stored(engine: Engine, seats: int) -> str:
    return store_event(engine, subscription_event("cus_acme", seats=seats, created=100 + seats))


def _run(engine: Engine, ids: list[str], backlog: int = 0) -> dict[str, int]:
    return stripe_events.process_stripe_events(
        ids, lambda: SqlUnitOfWork(engine), DEPS, lambda _: False, backlog=backlog
    )


def _rows(engine: Engine) -> dict[str, tuple[str, int]]:
    with engine.connect() as conn:
        found = conn.execute(inbox.select().order_by(inbox.c.id)).all()
    return {r.event_id: (r.state, r.attempts) for r in found}


def _licenses(engine: Engine) -> list[tuple[int, int, str]]:
    with SqlUnitOfWork(engine) as uow:
        (org,) = uow.organizations.list()
        history = uow.licenses.history(org.id)
    return sorted((x.version, x.seats, x.status) for x in history)


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def test_a_message_takes_on_the_events_never_tried_and_applies_each_once_in_arrival_order(
    engine: Engine,
) -> None:
    ids = [_stored(engine, seats) for seats in (1, 2, 3, 4)]
    # The first message names the first event twice; the other three wait in the backlog.
    assert _run(engine, [ids[0], ids[0]], backlog=10) == {"applied": 5}
    assert _rows(engine) == {event_id: ("applied", 1) for event_id in ids}
    assert _licenses(engine) == [
        (1, 1, "superseded"),
        (2, 2, "superseded"),
        (3, 3, "superseded"),
        (4, 4, "current"),
    ]
    # Their own messages come later: nothing is applied twice, no attempt is counted again.
    assert _run(engine, ids[1:3], backlog=10) == {"applied": 2}
    assert _run(engine, [ids[3]], backlog=10) == {"applied": 1}
    assert _rows(engine) == {event_id: ("applied", 1) for event_id in ids}
    assert len(_licenses(engine)) == 4


def test_a_message_takes_on_at_most_its_backlog_the_oldest_first(engine: Engine) -> None:
    ids = [_stored(engine, seats) for seats in (1, 2, 3, 4, 5)]
    assert _run(engine, [ids[0]], backlog=2) == {"applied": 3}
    assert [state for state, _ in _rows(engine).values()] == [
        "applied",
        "applied",
        "applied",
        "received",
        "received",
    ]


def test_without_a_backlog_a_message_applies_only_its_own_events(engine: Engine) -> None:
    ids = [_stored(engine, seats) for seats in (1, 2, 3)]
    assert _run(engine, ids[:2]) == {"applied": 2}
    assert _rows(engine)[ids[2]] == ("received", 0)


def test_an_event_already_tried_is_left_to_its_own_retries(engine: Engine) -> None:
    first, tried = _stored(engine, 1), _stored(engine, 2)
    with engine.begin() as conn:  # it failed once: its task retries it with its backoff
        conn.execute(update(inbox).where(inbox.c.event_id == tried).values(attempts=1))
    assert _run(engine, [first], backlog=10) == {"applied": 1}
    assert _rows(engine)[tried] == ("received", 1)


def test_a_broken_event_in_the_backlog_costs_the_message_nothing(
    engine: Engine, statements: list[str]
) -> None:
    good, broken = _stored(engine, 1), _stored(engine, 2)
    with engine.begin() as conn:  # a payload that cannot be read fails like a bug would
        conn.execute(update(inbox).where(inbox.c.event_id == broken).values(payload="{"))
    statements.clear()
    assert _run(engine, [good], backlog=10) == {"applied": 1}
    # Left untried for its own message, which records its failure and retries it.
    assert _rows(engine) == {good: ("applied", 1), broken: ("received", 0)}
    assert sum(s.lstrip().upper().startswith("UPDATE INBOX") for s in statements) == 1


def test_stripe_asked_about_every_event_means_no_backlog_is_taken_on(engine: Engine) -> None:
    first = subscription_event("cus_acme", seats=1, created=101)
    first_id, waiting = store_event(engine, first), _stored(engine, 2)
    gateway = FakeGateway()
    gateway.objects[first["data"]["object"]["id"]] = first["data"]["object"]
    checked = fake_deps(gateway=gateway, verify_by_fetch=True)
    states = stripe_events.process_stripe_events(
        [first_id], lambda: SqlUnitOfWork(engine), checked, lambda _: False, backlog=10
    )
    assert states == {"applied": 1}
    assert _rows(engine)[waiting] == ("received", 0)


def test_a_message_whose_events_are_done_reads_once_and_locks_nothing(
    engine: Engine, statements: list[str]
) -> None:
    ids = [_stored(engine, seats) for seats in (1, 2)]
    assert _run(engine, ids) == {"applied": 2}
    statements.clear()
    assert _run(engine, ids) == {"applied": 2}  # redelivered
    assert [s.split()[0].upper() for s in statements] == ["SELECT"]
    statements.clear()
    waiting = _stored(engine, 3)  # a backlog is left to a message with work of its own
    statements.clear()
    assert _run(engine, ids, backlog=10) == {"applied": 2}
    assert [s.split()[0].upper() for s in statements] == ["SELECT"]
    assert _rows(engine)[waiting] == ("received", 0)


def test_the_payloads_are_read_once_per_message(engine: Engine, statements: list[str]) -> None:
    ids = [_stored(engine, seats) for seats in (1, 2, 3)]
    statements.clear()
    assert _run(engine, ids[:1], backlog=10) == {"applied": 3}
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # The message's rows, admitted before any lock, and the backlog taken on (locked); then
    # only the states of the message's rows, locked.
    assert sum("inbox.payload" in s for s in reads) == 2
    assert sum("FROM inbox" in s and "inbox.payload" not in s for s in reads) == 1


def test_a_message_of_many_events_says_so_in_one_log_line(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [_stored(engine, seats) for seats in (1, 2, 3)]
    with caplog.at_level(logging.INFO, logger="seatflow.workers"):
        assert _run(engine, ids) == {"applied": 3}
    lines = [r for r in caplog.records if r.name == "seatflow.workers"]
    assert [r.getMessage() for r in lines] == ["events processed"]
    assert lines[0].__dict__["states"] == {"applied": 3}
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="seatflow.workers"):
        assert _run(engine, [_stored(engine, 4)], backlog=10) == {"applied": 1}
    lone = [r for r in caplog.records if r.name == "seatflow.workers"]
    assert [r.getMessage() for r in lone] == ["event processed"]  # a lone event: its own id


def test_the_worker_takes_on_a_backlog() -> None:
    from workers import tasks

    assert tasks.BACKLOG >= 16


def _metric(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_messages_events_are_counted_by_type_and_state_and_each_applied_ones_lag(
    engine: Engine,
) -> None:
    applied = "seatflow_events_processed_total"
    labels = {"type": "customer.subscription.created", "state": "applied"}
    stale = labels | {"state": "skipped_stale"}
    lags = (
        "seatflow_event_created_to_applied_seconds_count",
        "seatflow_event_received_to_applied_seconds_count",
    )
    before = (_metric(applied, **labels), _metric(applied, **stale), *map(_metric, lags))
    ids = [_stored(engine, seats) for seats in (2, 3, 4)]
    older = store_event(engine, subscription_event("cus_acme", seats=9, created=50))

    assert _run(engine, [*ids, older]) == {"applied": 3, "skipped_stale": 1}
    assert _run(engine, [_stored(engine, 5)]) == {"applied": 1}  # a lone event: the same

    after = (_metric(applied, **labels), _metric(applied, **stale), *map(_metric, lags))
    assert [a - b for a, b in zip(after, before, strict=True)] == [4, 1, 4, 4]
