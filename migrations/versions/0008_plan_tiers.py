"""Plans: catalog prices by tier (ranked, with features); subscriptions, estimates, upgrades
and licenses carry their tier. Everything that existed before is the `standard` tier.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STANDARD = sa.text("'standard'")


def _tier(name: str = "tier") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.String(length=64), nullable=False, server_default=STANDARD)


def _features() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("features", sa.Text(), nullable=False, server_default=sa.text("'[]'"))


def upgrade() -> None:
    # The primary key gains the tier: a new table, the rows copied, the old one dropped
    # (the same on SQLite and PostgreSQL).
    op.create_table(
        "catalog_prices_tiered",
        sa.Column("license_type", sa.String(length=64), nullable=False),
        _tier(),
        sa.Column("interval", sa.String(length=16), nullable=False),
        sa.Column("unit_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stripe_price_id", sa.String(length=255), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False, server_default=sa.text("1")),
        _features(),
        sa.PrimaryKeyConstraint("license_type", "tier", "interval"),
        sa.UniqueConstraint("stripe_price_id"),
    )
    op.execute(
        "INSERT INTO catalog_prices_tiered "
        "(license_type, interval, unit_amount, currency, stripe_price_id) "
        "SELECT license_type, interval, unit_amount, currency, stripe_price_id "
        "FROM catalog_prices"
    )
    op.drop_table("catalog_prices")
    op.rename_table("catalog_prices_tiered", "catalog_prices")
    for table in ("subscriptions", "estimates", "upgrades", "licenses", "offline_activations"):
        with op.batch_alter_table(table) as batch:
            if table in ("estimates", "upgrades"):
                batch.add_column(_tier("from_tier"))
            batch.add_column(_tier())
            if table in ("licenses", "offline_activations"):
                batch.add_column(_features())


def downgrade() -> None:
    for table in ("subscriptions", "estimates", "upgrades", "licenses", "offline_activations"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("tier")
            if table in ("estimates", "upgrades"):
                batch.drop_column("from_tier")
            if table in ("licenses", "offline_activations"):
                batch.drop_column("features")
    op.execute("DELETE FROM catalog_prices WHERE tier <> 'standard'")
    with op.batch_alter_table("catalog_prices", recreate="always") as batch:
        batch.drop_column("rank")
        batch.drop_column("features")
