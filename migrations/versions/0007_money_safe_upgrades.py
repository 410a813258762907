"""Upgrades: bounded charge retries, 3-D Secure, refunds; requires_action is an open state.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)
OLD_OPEN = "state IN ('requested', 'charging', 'awaiting_payment', 'paid')"
NEW_OPEN = "state IN ('requested', 'charging', 'awaiting_payment', 'requires_action', 'paid')"

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _one_open(batch_op: object, where: str) -> None:
    batch_op.create_index(  # type: ignore[attr-defined]
        "uq_upgrades_one_open",
        ["organization_id", "license_type"],
        unique=True,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def upgrade() -> None:
    with op.batch_alter_table("upgrades", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("charge_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("retry_at", TS, nullable=True))
        batch_op.add_column(sa.Column("payment_url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("refunded_amount", sa.BigInteger(), nullable=True))
        batch_op.drop_index("uq_upgrades_one_open")
        _one_open(batch_op, NEW_OPEN)


def downgrade() -> None:
    with op.batch_alter_table("upgrades", schema=None) as batch_op:
        batch_op.drop_index("uq_upgrades_one_open")
        _one_open(batch_op, OLD_OPEN)
        batch_op.drop_column("refunded_amount")
        batch_op.drop_column("payment_url")
        batch_op.drop_column("retry_at")
        batch_op.drop_column("charge_attempts")
