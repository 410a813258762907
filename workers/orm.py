"""Tables and the imperative mapping of the plain domain dataclasses onto them.

The migrations create these tables; this module describes them to SQLAlchemy. Times are
stored in UTC and always come back timezone-aware, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import registry, relationship

from domain import model


class UTCDateTime(TypeDecorator[datetime]):
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


metadata = MetaData()

organizations = Table(
    "organizations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("stripe_customer_id", String(255), unique=True),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("license_type", String(64), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("interval", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("current_period_start", UTCDateTime, nullable=False),
    Column("current_period_end", UTCDateTime, nullable=False),
    Column("stripe_subscription_id", String(255), unique=True),
    Column("stripe_item_id", String(255)),
    Column("stripe_price_id", String(255)),
    Column("stripe_version", BigInteger, nullable=False, default=0),
    UniqueConstraint("organization_id", "license_type"),
)

inbox = Table(
    "inbox",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event_id", String(255), nullable=False, unique=True),
    Column("type", String(255), nullable=False),
    Column("api_version", String(64)),
    Column("account", String(255)),
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
)

mapper_registry = registry(metadata=metadata)
_mapped = False


def start_mappers() -> None:
    """Map the domain classes once per process (idempotent)."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(model.Subscription, subscriptions)
    mapper_registry.map_imperatively(
        model.Organization,
        organizations,
        properties={
            "subscriptions": relationship(
                model.Subscription,
                lazy="selectin",
                cascade="all, delete-orphan",
                order_by=subscriptions.c.id,
            )
        },
    )
    _mapped = True
