"""The tables (the mapping of the domain dataclasses onto them is in adapters/mapping.py).

The migrations create these tables; this module describes them to SQLAlchemy, all but the
inbox, which inbox/table.py describes on the same metadata (the receiver writes it without the
adapters). Times are stored in UTC and always come back timezone-aware (`UTCDateTime`), on
PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)

from domain.upgrades import OPEN_STATES, UpgradeState
from inbox.table import UTCDateTime

# Every table's, the inbox's included: what the mapping and the migrations describe.
from inbox.table import metadata as metadata


class FeatureList(TypeDecorator[tuple[str, ...]]):
    """A tier's features: a JSON list in one text column, a tuple in the domain."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str:
        return json.dumps(list(value or ()))

    def process_result_value(self, value: str | None, dialect: Any) -> tuple[str, ...]:
        return _features(value or "[]")


@functools.lru_cache(maxsize=1024)
def _features(text: str) -> tuple[str, ...]:
    """A stored feature list, parsed once per distinct text (a catalog has a few)."""
    return tuple(json.loads(text))


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
    Column("tier", String(64), nullable=False, default="standard", server_default="standard"),
    UniqueConstraint("organization_id", "license_type"),
)

members = Table(
    "members",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("email", String(320), nullable=False),
    Column("role", String(16), nullable=False),
    Column("removed_at", UTCDateTime),
    Column("session_version", Integer, nullable=False, server_default="0"),
    UniqueConstraint("organization_id", "email"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member_id", ForeignKey("members.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("expires_at", UTCDateTime),
)

catalog_prices = Table(
    "catalog_prices",
    metadata,
    Column("license_type", String(64), primary_key=True),
    Column("tier", String(64), primary_key=True, default="standard", server_default="standard"),
    Column("interval", String(16), primary_key=True),
    Column("unit_amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("stripe_price_id", String(255), nullable=False, unique=True),
    Column("rank", Integer, nullable=False, default=1, server_default="1"),
    Column("features", FeatureList, nullable=False, default=(), server_default="[]"),
)

discount_codes = Table(
    "discount_codes",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("percent_off", Integer),
    Column("amount_off", BigInteger),
    Column("currency", String(3)),
    Column("active", Boolean, nullable=False, default=True),
    Column("expires_at", UTCDateTime),
    Column("max_redemptions", Integer),
    Column("times_redeemed", Integer, nullable=False, default=0),
)

seat_ledger = Table(
    "seat_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("license_type", String(64), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("interval", String(16), nullable=False),
    Column("cause", String(32), nullable=False),
    Column("reference", String(255), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

estimates = Table(
    "estimates",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("license_type", String(64), nullable=False),
    Column("from_seats", Integer, nullable=False),
    Column("from_interval", String(16), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("interval", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("before_discount", BigInteger, nullable=False),
    Column("discount_amount", BigInteger, nullable=False),
    Column("old_term", BigInteger, nullable=False),
    Column("new_term", BigInteger, nullable=False),
    Column("old_unused_minutes", Integer, nullable=False),
    Column("old_total_minutes", Integer, nullable=False),
    Column("new_unused_minutes", Integer, nullable=False),
    Column("new_total_minutes", Integer, nullable=False),
    Column("cycle_start", UTCDateTime, nullable=False),
    Column("current_cycle_end", UTCDateTime, nullable=False),
    Column("new_cycle_end", UTCDateTime, nullable=False),
    Column("next_invoice_at", UTCDateTime, nullable=False),
    Column("next_invoice_amount", BigInteger, nullable=False),
    Column("trial", Boolean, nullable=False),
    Column("computed_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("discount_code", String(64)),
    Column("promotion_code_id", String(255)),
    Column("status", String(16), nullable=False, default="open", server_default="open"),
    Column("from_tier", String(64), nullable=False, default="standard", server_default="standard"),
    Column("tier", String(64), nullable=False, default="standard", server_default="standard"),
)

# The partial unique index's condition, from the domain's one list of open states.
OPEN_UPGRADE = "state IN ({})".format(
    ", ".join(f"'{state.value}'" for state in UpgradeState if state in OPEN_STATES)
)

upgrades = Table(
    "upgrades",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("license_type", String(64), nullable=False),
    Column("estimate_id", ForeignKey("estimates.id"), nullable=False),
    Column("from_seats", Integer, nullable=False),
    Column("from_interval", String(16), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("interval", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("estimate_amount", BigInteger, nullable=False),
    Column("charged_amount", BigInteger),
    Column("state", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("discount_code", String(64)),
    Column("promotion_code_id", String(255)),
    Column("discount_amount", BigInteger),
    Column("idempotency_key", String(255)),
    Column("stripe_invoice_id", String(255), unique=True),
    Column("failure_reason", Text),
    Column("paid_amount", BigInteger),
    Column("stripe_synced_at", UTCDateTime),
    Column("charge_attempts", Integer, nullable=False, default=0, server_default="0"),
    Column("retry_at", UTCDateTime),
    Column("payment_url", Text),
    Column("refunded_amount", BigInteger),
    Column("from_tier", String(64), nullable=False, default="standard", server_default="standard"),
    Column("tier", String(64), nullable=False, default="standard", server_default="standard"),
    UniqueConstraint("organization_id", "idempotency_key"),
    # At most one unfinished upgrade per subscription, even under concurrent submissions.
    Index(
        "uq_upgrades_one_open",
        "organization_id",
        "license_type",
        unique=True,
        postgresql_where=text(OPEN_UPGRADE),
        sqlite_where=text(OPEN_UPGRADE),
    ),
)

upgrade_transitions = Table(
    "upgrade_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("upgrade_id", ForeignKey("upgrades.id"), nullable=False, index=True),
    Column("from_state", String(32)),
    Column("to_state", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("cause", String(200), nullable=False),
)

licenses = Table(
    "licenses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("license_type", String(64), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("interval", String(16), nullable=False),
    Column("valid_until", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("cause", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("signature", Text, nullable=False),
    Column("tier", String(64), nullable=False, default="standard", server_default="standard"),
    Column("features", FeatureList, nullable=False, default=(), server_default="[]"),
    # Exactly one version per cause: a repeated event cannot issue a second one.
    UniqueConstraint("organization_id", "license_type", "cause"),
    UniqueConstraint("organization_id", "license_type", "version"),
)

ACTIVE = "status = 'active'"

offline_activations = Table(
    "offline_activations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("license_type", String(64), nullable=False),
    Column("machine_id", String(128), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("signature", Text, nullable=False),
    Column("tier", String(64), nullable=False, default="standard", server_default="standard"),
    Column("features", FeatureList, nullable=False, default=(), server_default="[]"),
    Index("ix_offline_activations_org", "organization_id", "license_type"),
    Index(
        "uq_offline_one_active_per_machine",
        "organization_id",
        "license_type",
        "machine_id",
        unique=True,
        postgresql_where=text(ACTIVE),
        sqlite_where=text(ACTIVE),
    ),
)

drift_records = Table(
    "drift_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # domain.reconciliation_jobs.DRIFT_KINDS
    Column("organization_id", String(64)),
    Column("subject", String(255), nullable=False),  # upgrade, subscription or event id
    Column("cause", String(255), nullable=False),
    Column("before", Text),  # JSON
    Column("after", Text),  # JSON
    Column("estimate_amount", BigInteger),
    Column("charged_amount", BigInteger),
    Column("paid_amount", BigInteger),
    Column("currency", String(3)),
    Column("minutes_between", Integer),
    Column("flagged", Boolean, nullable=False, default=False),
    Column("repaired", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_drift_records_kind_subject", "kind", "subject"),
)

# The card on file, one row per organization, from the newest payment-method event.
payment_methods = Table(
    "payment_methods",
    metadata,
    Column("organization_id", ForeignKey("organizations.id"), primary_key=True),
    Column("payment_method_id", String(255), nullable=False),
    Column("card_brand", String(32)),
    Column("card_last4", String(4)),
    Column("card_exp_month", Integer),
    Column("card_exp_year", Integer),
    Column("version", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("default_at_stripe", Boolean, nullable=False, default=True, server_default=text("true")),
)

# What `invoice.paid` said about an upgrade's invoice: number, amount, time, hosted pages.
upgrade_receipts = Table(
    "upgrade_receipts",
    metadata,
    Column("invoice_id", String(255), primary_key=True),
    Column("upgrade_id", ForeignKey("upgrades.id"), nullable=False, unique=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("number", String(64)),
    Column("amount_paid", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("paid_at", UTCDateTime),
    Column("hosted_invoice_url", Text),
    Column("invoice_pdf", Text),
)

PENDING_CHANGE = "state IN ('scheduling', 'scheduled')"

# Changes scheduled for a subscription's renewal (domain/renewal.py): one pending per
# subscription, even under concurrent requests.
scheduled_changes = Table(
    "scheduled_changes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("license_type", String(64), nullable=False),
    Column("stripe_subscription_id", String(255), nullable=False),
    Column("from_seats", Integer, nullable=False),
    Column("from_interval", String(16), nullable=False),
    Column("from_tier", String(64), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("interval", String(16), nullable=False),
    Column("tier", String(64), nullable=False),
    Column("stripe_price_id", String(255), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("next_invoice_amount", BigInteger, nullable=False),
    Column("effective_at", UTCDateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("requested_by", String(320), nullable=False),
    Column("stripe_schedule_id", String(255), index=True),
    Column("stripe_version", BigInteger, nullable=False, default=0, server_default="0"),
    Column("cause", String(200)),
    Column("applied_at", UTCDateTime),
    Column("stripe_released_at", UTCDateTime),
    Index(
        "uq_scheduled_changes_one_pending",
        "organization_id",
        "license_type",
        unique=True,
        postgresql_where=text(PENDING_CHANGE),
        sqlite_where=text(PENDING_CHANGE),
    ),
)
