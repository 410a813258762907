"""The card on file knows whether Stripe has been told to make it the customer's default: a
charge names a new card itself until then.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_methods") as batch:
        batch.add_column(
            sa.Column(
                "default_at_stripe", sa.Boolean(), nullable=False, server_default=sa.text("true")
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_methods") as batch:
        batch.drop_column("default_at_stripe")
