"""On PostgreSQL: a row the database refuses (created beyond a BIGINT) fails alone; the
deliveries that shared its group insert are stored."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select, text

from cli import samples
from config.database import make_engine
from inbox.events import IncomingEvent
from inbox.table import inbox
from tests.support import wait_until
from webhooks.writer import Delivery, InboxWriter


def _delivery(event_id: str, created: int) -> Delivery:
    obj = samples.subscription_object(customer="cus_pg")
    body = json.dumps(samples.event("customer.subscription.updated", obj, event_id=event_id))
    parsed = IncomingEvent.parse(body.encode())
    # Built past the parser's checks, as a row the database itself refuses.
    return Delivery(IncomingEvent(**{**parsed.__dict__, "created": created}), body.encode(), 0)


def test_a_row_postgres_refuses_fails_alone_and_its_group_is_stored(pg_settings) -> None:
    engine = make_engine(pg_settings, isolation_level="AUTOCOMMIT")
    writer = InboxWriter(engine, lambda _ids: None, max_wait=0.3)
    batch = [_delivery(f"evt_pg{i}", 1_700_000_000) for i in range(20)]
    batch[7] = _delivery("evt_pg_huge", 10**30)

    def store(d: Delivery) -> str:
        try:
            return "stored" if writer.store(d) else "duplicate"
        except Exception as exc:
            return type(exc).__name__

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(store, batch))
    assert results[7] == "DataError"
    assert results[:7] + results[8:] == ["stored"] * 19
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(inbox)) == 19


def test_a_group_insert_reaches_postgres_as_written_on_one_kept_connection(
    pg_settings, monkeypatch
) -> None:
    """psycopg's usual cursor parses a statement of more than 50 parameters on every
    execution, and a pool checkout per insert costs as much again: the writer keeps one
    connection, whose raw cursor passes the statement through."""
    from psycopg import _queries
    from sqlalchemy import event

    parsed: list[str] = []
    split = _queries._split_query
    monkeypatch.setattr(
        _queries, "_split_query", lambda q, *a, **k: parsed.append(q) or split(q, *a, **k)
    )
    engine = make_engine(pg_settings, isolation_level="AUTOCOMMIT")
    checkouts: list[object] = []
    event.listen(engine, "checkout", lambda *args: checkouts.append(args))
    writer = InboxWriter(engine, lambda _ids: None, max_wait=0.3)
    batch = [_delivery(f"evt_raw{i}", 1_700_000_000 + i) for i in range(16)]
    with ThreadPoolExecutor(16) as pool:
        assert list(pool.map(writer.store, batch)) == [True] * 16
    assert writer.store(_delivery("evt_raw_next", 1_700_000_100)) is True
    assert parsed == []
    assert len(checkouts) == 1


def test_a_connection_postgres_dropped_is_replaced_without_failing_a_delivery(
    pg_settings,
) -> None:
    engine = make_engine(pg_settings, isolation_level="AUTOCOMMIT")
    writer = InboxWriter(engine, lambda _ids: None)
    assert writer.store(_delivery("evt_before", 1_700_000_000)) is True
    with make_engine(pg_settings, isolation_level="AUTOCOMMIT").connect() as admin:
        ended = admin.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).all()
    assert ended  # the writer's kept connection is gone
    assert writer.store(_delivery("evt_after", 1_700_000_001)) is True
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(inbox)) == 2


def test_a_group_insert_on_postgres_stores_every_column_as_given(pg_settings) -> None:
    from datetime import UTC, datetime

    from inbox.table import inbox_row

    engine = make_engine(pg_settings, isolation_level="AUTOCOMMIT")
    writer = InboxWriter(engine, lambda _ids: None, max_wait=0.3)
    batch = [_delivery(f"evt_cols{i}", 1_700_000_000 + i) for i in range(12)]
    with ThreadPoolExecutor(12) as pool:
        assert list(pool.map(writer.store, batch)) == [True] * 12
    again = [_delivery(f"evt_cols{i}", 1_700_000_000 + i) for i in range(2)]
    assert [writer.store(d) for d in again] == [False, False]  # duplicates
    with engine.connect() as conn:
        stored = {r.event_id: r._mapping for r in conn.execute(select(inbox))}
    for d in batch:
        expected = inbox_row(d.event, d.body.decode(), datetime.now(UTC), 0)
        row = stored[d.event.event_id]
        for name, value in expected.items():
            if name not in ("received_at", "updated_at"):
                assert row[name] == value, name
        assert row["received_at"] == row["updated_at"]
        assert row["received_at"].tzinfo is not None


def _writer_backends(engine) -> list[int]:
    """The server processes whose last statement was the writer's group insert."""
    with engine.connect() as conn:
        return list(
            conn.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND query LIKE 'INSERT INTO inbox %'"
                )
            )
        )


def test_a_quiet_writer_closes_its_connection_and_commits_on_any_engine(pg_settings) -> None:
    engine = make_engine(pg_settings)  # not in autocommit: the writer commits each insert
    writer = InboxWriter(engine, lambda _ids: None, idle=0.2)
    others = set(_writer_backends(engine))  # writers of earlier tests, not yet quiet
    assert writer.store(_delivery("evt_first", 1_700_000_000)) is True
    with make_engine(pg_settings).connect() as other:  # committed: visible to others
        assert other.scalar(select(func.count()).select_from(inbox)) == 1
    [own] = set(_writer_backends(engine)) - others
    wait_until(lambda: own not in _writer_backends(engine), 10)  # quiet: its connection closed
    assert writer.store(_delivery("evt_later", 1_700_000_001)) is True
    assert len(set(_writer_backends(engine)) - others - {own}) == 1


def test_the_receivers_connections_are_its_pool_of_five_plus_five_and_the_writers_own(
    pg_settings,
) -> None:
    """What docs/deployment.md tells operators to count per receiver process."""
    from webhooks import create_app

    app = create_app(pg_settings)
    engine = app.extensions["seatflow"].engine
    assert (engine.pool.size(), engine.pool._max_overflow) == (5, 5)
    writer = app.extensions["seatflow"].writer
    before = set(_writer_backends(engine))  # other writers of this database, still open
    assert writer.store(_delivery("evt_counted", 1_700_000_000)) is True
    assert engine.pool.checkedout() == 0  # the writer's connection is not the pool's
    assert len(set(_writer_backends(engine)) - before) == 1
