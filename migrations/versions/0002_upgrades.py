"""Members, tokens, catalog, discount codes, seat ledger, estimates and upgrades.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_prices",
        sa.Column("license_type", sa.String(length=64), nullable=False),
        sa.Column("interval", sa.String(length=16), nullable=False),
        sa.Column("unit_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stripe_price_id", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("license_type", "interval"),
        sa.UniqueConstraint("stripe_price_id"),
    )
    op.create_table(
        "discount_codes",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("percent_off", sa.Integer(), nullable=True),
        sa.Column("amount_off", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("times_redeemed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "estimates",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("license_type", sa.String(length=64), nullable=False),
        sa.Column("from_seats", sa.Integer(), nullable=False),
        sa.Column("from_interval", sa.String(length=16), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("interval", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("before_discount", sa.BigInteger(), nullable=False),
        sa.Column("discount_amount", sa.BigInteger(), nullable=False),
        sa.Column("old_term", sa.BigInteger(), nullable=False),
        sa.Column("new_term", sa.BigInteger(), nullable=False),
        sa.Column("old_unused_minutes", sa.Integer(), nullable=False),
        sa.Column("old_total_minutes", sa.Integer(), nullable=False),
        sa.Column("new_unused_minutes", sa.Integer(), nullable=False),
        sa.Column("new_total_minutes", sa.Integer(), nullable=False),
        sa.Column("cycle_start", TS, nullable=False),
        sa.Column("current_cycle_end", TS, nullable=False),
        sa.Column("new_cycle_end", TS, nullable=False),
        sa.Column("next_invoice_at", TS, nullable=False),
        sa.Column("next_invoice_amount", sa.BigInteger(), nullable=False),
        sa.Column("trial", sa.Boolean(), nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("discount_code", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("estimates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_estimates_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "members",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("removed_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "email"),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_members_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "seat_ledger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("license_type", sa.String(length=64), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("interval", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("seat_ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_seat_ledger_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_member_id"), ["member_id"], unique=False)

    op.create_table(
        "upgrades",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("license_type", sa.String(length=64), nullable=False),
        sa.Column("estimate_id", sa.String(length=64), nullable=False),
        sa.Column("from_seats", sa.Integer(), nullable=False),
        sa.Column("from_interval", sa.String(length=16), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("interval", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("estimate_amount", sa.BigInteger(), nullable=False),
        sa.Column("charged_amount", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("discount_code", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("stripe_invoice_id", sa.String(length=255), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("paid_amount", sa.BigInteger(), nullable=True),
        sa.Column("stripe_synced_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["estimate_id"],
            ["estimates.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "idempotency_key"),
        sa.UniqueConstraint("stripe_invoice_id"),
    )
    with op.batch_alter_table("upgrades", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_upgrades_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "uq_upgrades_one_open",
            ["organization_id", "license_type"],
            unique=True,
            postgresql_where=sa.text(
                "state IN ('requested', 'charging', 'awaiting_payment', 'paid')"
            ),
            sqlite_where=sa.text("state IN ('requested', 'charging', 'awaiting_payment', 'paid')"),
        )

    op.create_table(
        "upgrade_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("upgrade_id", sa.String(length=64), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("cause", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["upgrade_id"],
            ["upgrades.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("upgrade_transitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_upgrade_transitions_upgrade_id"), ["upgrade_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("upgrade_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upgrade_transitions_upgrade_id"))

    op.drop_table("upgrade_transitions")
    with op.batch_alter_table("upgrades", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_upgrades_one_open",
            postgresql_where=sa.text(
                "state IN ('requested', 'charging', 'awaiting_payment', 'paid')"
            ),
            sqlite_where=sa.text("state IN ('requested', 'charging', 'awaiting_payment', 'paid')"),
        )
        batch_op.drop_index(batch_op.f("ix_upgrades_organization_id"))

    op.drop_table("upgrades")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_member_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("seat_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seat_ledger_organization_id"))

    op.drop_table("seat_ledger")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_organization_id"))

    op.drop_table("members")
    with op.batch_alter_table("estimates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_estimates_organization_id"))

    op.drop_table("estimates")
    op.drop_table("discount_codes")
    op.drop_table("catalog_prices")
