"""Changes scheduled for a subscription's renewal (fewer seats, annual → monthly, a lower
tier), kept by Stripe as the next phase of a subscription schedule.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PENDING = sa.text("state IN ('scheduling', 'scheduled')")


def upgrade() -> None:
    op.create_table(
        "scheduled_changes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("license_type", sa.String(length=64), nullable=False),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=False),
        sa.Column("from_seats", sa.Integer(), nullable=False),
        sa.Column("from_interval", sa.String(length=16), nullable=False),
        sa.Column("from_tier", sa.String(length=64), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("interval", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.String(length=64), nullable=False),
        sa.Column("stripe_price_id", sa.String(length=255), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("next_invoice_amount", sa.BigInteger(), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=320), nullable=False),
        sa.Column("stripe_schedule_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_version", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("cause", sa.String(length=200), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stripe_released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    # Not unique: a schedule made in the dashboard, or one whose release failed, may be taken
    # over by a later change (the newest change recorded for it owns its events).
    op.create_index(
        "ix_scheduled_changes_stripe_schedule_id", "scheduled_changes", ["stripe_schedule_id"]
    )
    op.create_index(
        "ix_scheduled_changes_organization_id", "scheduled_changes", ["organization_id"]
    )
    op.create_index(
        "uq_scheduled_changes_one_pending",
        "scheduled_changes",
        ["organization_id", "license_type"],
        unique=True,
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("uq_scheduled_changes_one_pending", table_name="scheduled_changes")
    op.drop_index("ix_scheduled_changes_stripe_schedule_id", table_name="scheduled_changes")
    op.drop_index("ix_scheduled_changes_organization_id", table_name="scheduled_changes")
    op.drop_table("scheduled_changes")
