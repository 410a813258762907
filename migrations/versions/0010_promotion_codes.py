"""Stripe promotion codes: an estimate and an upgrade name the promotion code they priced
(Stripe's id), and an upgrade keeps what its discount took off the amount charged (its
invoice line is the amount before the discount, which Stripe takes off).

Revision ID: 0010
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("estimates") as batch:
        batch.add_column(sa.Column("promotion_code_id", sa.String(length=255), nullable=True))
    with op.batch_alter_table("upgrades") as batch:
        batch.add_column(sa.Column("promotion_code_id", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("discount_amount", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("upgrades") as batch:
        batch.drop_column("discount_amount")
        batch.drop_column("promotion_code_id")
    with op.batch_alter_table("estimates") as batch:
        batch.drop_column("promotion_code_id")
