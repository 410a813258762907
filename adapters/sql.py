"""Small pieces of SQL the repositories share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, all_, any_, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator


def among(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(array)`: one parameter whatever the
    number of values, so the statement is not rendered again for each count (an expanding IN
    is rendered anew at every execution)."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


def not_among(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column NOT IN (values)`; on PostgreSQL `column <> ALL(array)`, one parameter (see
    `among`)."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column != all_(bindparam(None, values, type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.not_in(values)  # type: ignore[no-any-return]


def insert_all(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (each with the same columns). On PostgreSQL in one statement of one array
    parameter per column, `INSERT ... SELECT unnest(...), ...`: the driver sends an executemany
    as one statement per row, each row's values converted apart, several times the client's
    time of a batch's few arrays."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    names = list(rows[0])
    columns = [
        _unnest(table.c[name].type, [row[name] for row in rows], name, dialect) for name in names
    ]
    session.execute(insert(table).from_select(names, select(*columns)))


def _unnest(type_: Any, values: list[Any], name: str, dialect: Any) -> Any:
    """`unnest(array)` of one column's values; a TypeDecorator's own conversion is applied
    here (an array would take a tuple it makes a value of for a nested array)."""
    if isinstance(type_, TypeDecorator):
        values = [type_.process_bind_param(value, dialect) for value in values]
        type_ = type_.impl_instance
    return func.unnest(bindparam(f"all_{name}", values, ARRAY(type_)))
