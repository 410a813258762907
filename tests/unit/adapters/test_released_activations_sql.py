"""Released offline activations are deleted in batches by the SQL repository, on SQLite and
PostgreSQL alike (the service's rule, on the fakes: tests/unit/services/
test_offline_retention.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from adapters.orm import offline_activations, organizations
from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from services import admin

NOW = datetime(2027, 6, 1, tzinfo=UTC)


def activation(engine, key: str, status: str, expired_days_ago: int) -> str:
    expires = NOW - timedelta(days=expired_days_ago)
    with engine.begin() as conn:
        conn.execute(
            insert(offline_activations).values(
                id=f"off_{key}",
                organization_id="org_retention",
                license_type="build-agent",
                machine_id=f"machine-{key}",
                issued_at=expires - timedelta(days=30),
                expires_at=expires,
                status=status,
                version=1,
                signature="sig",
            )
        )
    return f"off_{key}"


def remaining(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(offline_activations.c.id)).scalars())


def test_released_activations_expired_beyond_the_retention_are_pruned_in_batches(
    sqlite_settings,
) -> None:
    prunes_only_long_expired_released_ones(make_engine(sqlite_settings))


def test_the_same_on_postgresql(pg_settings) -> None:
    prunes_only_long_expired_released_ones(make_engine(pg_settings))


def prunes_only_long_expired_released_ones(engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(organizations).values(id="org_retention", name="Retention"))
    pruned = {activation(engine, f"old{n}", "released", 100 + n) for n in range(5)}
    kept = {
        activation(engine, "recent", "released", 10),  # expired, within the retention
        activation(engine, "holding", "released", -5),  # its file still valid: holds a seat
        activation(engine, "active", "active", 200),
        activation(engine, "revoked", "revoked", 200),
    }
    retention = timedelta(days=90)
    uow = SqlUnitOfWork(engine)

    assert admin.prune_released_activations(uow, retention, dry_run=True, now=NOW) == 5
    assert remaining(engine) == pruned | kept
    assert admin.prune_released_activations(uow, retention, batch=2, now=NOW) == 5
    assert remaining(engine) == kept
