"""The receiver writes the one inbox table the migrations create: every column, its type, its
size and whether it may be empty, on PostgreSQL and SQLite alike."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, Table, create_engine, inspect

from webhooks.writer import InboxWriter


def _receivers_table(engine: Engine) -> Table:
    """The table of the INSERT the receiver's writer runs."""
    table: Table = InboxWriter(engine, lambda _ids: None)._statement.table
    return table


def _described(engine: Engine, columns: list[Any]) -> dict[str, tuple[str, bool]]:
    return {c["name"]: (c["type"].compile(engine.dialect), c["nullable"]) for c in columns}


@pytest.fixture(params=["postgresql", "sqlite"])
def migrated(request: pytest.FixtureRequest) -> Engine:
    if request.param == "postgresql":
        return create_engine(request.getfixturevalue("postgres_url"))
    return create_engine(request.getfixturevalue("sqlite_settings").database_url)


def test_the_receiver_writes_the_migrated_inbox_table(migrated: Engine) -> None:
    written = _receivers_table(migrated)
    expected = _described(migrated, inspect(migrated).get_columns("inbox"))
    assert written.name == "inbox"
    ours = [{"name": c.name, "type": c.type, "nullable": c.nullable} for c in written.c]
    assert _described(migrated, ours) == expected
    migrated.dispose()


def test_a_new_events_row_fills_every_column_but_the_id_and_the_time_it_was_applied() -> None:
    from datetime import UTC, datetime

    from cli import samples
    from inbox.table import ROW_COLUMNS, inbox, inbox_row

    row = inbox_row(samples.event("charge.succeeded", {"id": "ch_1"}), "{}", datetime.now(UTC), 0)
    assert tuple(row) == ROW_COLUMNS
    assert {c.name for c in inbox.c} - set(ROW_COLUMNS) == {"id", "applied_at"}
