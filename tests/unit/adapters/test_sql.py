"""The repositories' shared SQL (adapters/sql.py) says the same on SQLite and PostgreSQL: a
batch's rows inserted from arrays come back as they were given, and a set of values, in or
out, is one parameter on PostgreSQL whatever it holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, select
from sqlalchemy.orm import Session

from adapters.orm import licenses, organizations, seat_ledger
from adapters.sql import among, insert_all, not_among
from config.database import make_engine
from tests.conftest import clean

# Values an array's text form would have to quote: a comma, quotes, braces, a backslash,
# NULL spelled out, a space, a non-ASCII letter.
AWKWARD = ["a,b", 'say "hi"', "{x}", "back\\slash", "NULL", "with space", "é"]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    settings = request.getfixturevalue(
        f"{'pg' if request.param == 'postgresql' else 'sqlite'}_settings"
    )
    found = make_engine(settings)
    if found.dialect.name == "postgresql":
        clean(found)
    with found.begin() as conn:
        conn.execute(insert(organizations), [{"id": "org_1", "name": "One"}])
    yield found
    found.dispose()


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    return seen


def _license(n: int, at: datetime) -> dict[str, Any]:
    return {
        "id": f"lic_{n}",
        "organization_id": "org_1",
        "license_type": "node-locked",
        "seats": n + 1,
        "interval": "year",
        "valid_until": at,
        "version": n + 1,
        "issued_at": at,
        "cause": AWKWARD[n % len(AWKWARD)] + f" {n}",
        "status": "current",
        "signature": "sig" * 30,
        "tier": "standard",
        "features": tuple(AWKWARD[: n % 4]),  # a tuple is a value here, not a nested array
    }


def test_rows_inserted_from_arrays_read_back_as_given_in_one_statement(engine: Engine) -> None:
    at = datetime(2026, 1, 11, 0, 0, 30, 123456, tzinfo=UTC)
    rows = [_license(n, at) for n in range(9)]
    statements = _statements(engine)
    with Session(engine) as session:
        insert_all(session, licenses, rows)
        session.commit()
    inserts = [s for s in statements if s.startswith("INSERT")]
    assert len(inserts) == 1
    with engine.connect() as conn:
        stored = [dict(r._mapping) for r in conn.execute(select(licenses).order_by(licenses.c.id))]
    assert stored == sorted(rows, key=lambda r: r["id"])


def test_ledger_rows_of_a_batch_keep_their_order_and_values(engine: Engine) -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [
        {
            "license_type": "floating",
            "seats": seats,
            "interval": "month",
            "cause": "upgrade",
            "reference": AWKWARD[seats % len(AWKWARD)],
            "recorded_at": at,
            "organization_id": "org_1",
        }
        for seats in (3, 5, 4)
    ]
    with Session(engine) as session:
        insert_all(session, seat_ledger, rows)
        insert_all(session, seat_ledger, [])  # nothing to write: no statement, no error
        session.commit()
    columns = [seat_ledger.c[name] for name in rows[0]]
    with engine.connect() as conn:
        stored = [
            dict(r._mapping) for r in conn.execute(select(*columns).order_by(seat_ledger.c.id))
        ]
    assert stored == rows


def test_a_set_of_values_in_or_out_is_one_parameter_whatever_it_holds(engine: Engine) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with Session(engine) as session:
        insert_all(session, licenses, [_license(n, at) for n in range(len(AWKWARD))])
        session.commit()
    causes = [f"{value} {n}" for n, value in enumerate(AWKWARD)]
    wanted, others = causes[::2], causes[1::2]
    statements = _statements(engine)
    with Session(engine) as session:
        found = session.scalars(
            select(licenses.c.cause).where(among(session, licenses.c.cause, wanted))
        )
        assert sorted(found) == sorted(wanted)
        left = session.scalars(
            select(licenses.c.cause).where(not_among(session, licenses.c.cause, wanted))
        )
        assert sorted(left) == sorted(others)
        assert (
            session.scalars(
                select(licenses.c.cause).where(among(session, licenses.c.cause, []))
            ).all()
            == []
        )
        everything = select(licenses.c.cause).where(not_among(session, licenses.c.cause, []))
        assert sorted(session.scalars(everything)) == sorted(causes)
    if engine.dialect.name == "postgresql":
        assert all(s.count("%(") == 1 for s in statements if s.startswith("SELECT licenses.cause"))


def test_on_postgresql_a_list_is_sent_in_binary(pg_settings) -> None:
    from psycopg.adapt import PyFormat
    from psycopg.types.array import ListBinaryDumper

    engine = make_engine(pg_settings)
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        assert driver.adapters.get_dumper(list, PyFormat.AUTO) is ListBinaryDumper
    engine.dispose()
