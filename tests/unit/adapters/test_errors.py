"""What a database error means to an operator: a refused statement is not an outage."""

from __future__ import annotations

from sqlalchemy import exc as sa

from adapters.errors import explain


def test_a_conflicting_row_is_not_reported_as_an_unreachable_database() -> None:
    error = sa.IntegrityError("INSERT …", {}, Exception("UNIQUE constraint failed: orgs.name"))
    line = explain(error)
    assert line is not None
    assert "conflicts with a row already stored (UNIQUE constraint failed: orgs.name)" in line
    assert "running" not in line and "reachable" not in line


def test_another_refused_statement_does_not_ask_whether_the_database_runs() -> None:
    error = sa.DataError("INSERT …", {}, Exception("value too long for type varchar(64)"))
    line = explain(error)
    assert line is not None and "value too long" in line
    assert "running" not in line and "hint:" in line


def test_an_unreachable_database_still_says_so() -> None:
    error = sa.OperationalError("SELECT 1", {}, Exception("connection refused"))
    line = explain(error)
    assert line is not None and "is the database running" in line
