"""A session version per member (sign-out, removal and token revocation bump it) and an
expiry per API token.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", TS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("session_version")
