"""The one inbox table and the row of a new event in it.

The migrations create the table; this is its one description, used by the receiver's insert
(SQLAlchemy Core, no ORM) and by the adapters' inbox repository alike. The receiver writes the
row of each event it stores; reconciliation writes the same row, from the same function, for
an event Stripe never delivered.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

from config.events import is_handled
from inbox.events import MAX_API_VERSION, MAX_ID, IncomingEvent
from inbox.states import first_state

# Every seatflow table's: the inbox's here, the others' in adapters/orm.py.
metadata = MetaData()


class UTCDateTime(TypeDecorator[datetime]):
    """Every table's times: stored in UTC, always read back timezone-aware, on PostgreSQL
    and SQLite alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC-aware values")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


inbox = Table(
    "inbox",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event_id", String(MAX_ID), nullable=False, unique=True),
    Column("type", String(MAX_ID), nullable=False),
    Column("api_version", String(MAX_API_VERSION)),
    Column("account", String(MAX_ID)),
    Column("livemode", Boolean, nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("secret_index", Integer),
    Column("state", String(32), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("applied_at", UTCDateTime),
    Index("ix_inbox_state_updated", "state", "updated_at"),
)

# The columns the row of a new event fills (`inbox_row`): `id` is the database's, and
# `applied_at` is set when the event reaches a final state.
ROW_COLUMNS = tuple(c.name for c in inbox.c if c.name not in ("id", "applied_at"))


def inbox_row(
    event: IncomingEvent | Mapping[str, Any],
    payload: str,
    received_at: datetime,
    secret_index: int | None,
    refused: str | None = None,
) -> dict[str, Any]:
    """The inbox row of one event, delivered (`secret_index` of the secret that signed it)
    or fetched from Stripe (None): to be applied if seatflow acts on its type, else ignored;
    ignored too, with the reason, if `refused` says why it is not this service's."""
    parsed = event if isinstance(event, IncomingEvent) else IncomingEvent.from_dict(event)
    handled = is_handled(parsed.type) and refused is None
    return {
        "event_id": parsed.event_id,
        "type": parsed.type,
        "api_version": parsed.api_version,
        "account": parsed.account,
        "livemode": parsed.livemode,
        "created": parsed.created,
        "payload": payload,
        "received_at": received_at,
        "updated_at": received_at,
        "secret_index": secret_index,
        "state": first_state(handled).value,
        "attempts": 0,
        "last_error": refused,
    }
