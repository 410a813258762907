"""Inbox, organizations and subscriptions.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("stripe_customer_id", sa.String(255), unique=True),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "organization_id",
            sa.String(64),
            sa.ForeignKey("organizations.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("license_type", sa.String(64), nullable=False),
        sa.Column("seats", sa.Integer, nullable=False),
        sa.Column("interval", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("current_period_start", TS, nullable=False),
        sa.Column("current_period_end", TS, nullable=False),
        sa.Column("stripe_subscription_id", sa.String(255), unique=True),
        sa.Column("stripe_item_id", sa.String(255)),
        sa.Column("stripe_price_id", sa.String(255)),
        sa.Column("stripe_version", sa.BigInteger, nullable=False, server_default="0"),
        sa.UniqueConstraint("organization_id", "license_type"),
    )
    op.create_table(
        "inbox",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(255), nullable=False, unique=True),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("api_version", sa.String(64)),
        sa.Column("account", sa.String(255)),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("secret_index", sa.Integer),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("applied_at", TS),
    )
    # The sweeper and `events list --state` scan by state and age.
    op.create_index("ix_inbox_state_updated", "inbox", ["state", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_inbox_state_updated", table_name="inbox")
    op.drop_table("inbox")
    op.drop_table("subscriptions")
    op.drop_table("organizations")
