"""The migrations create exactly what the models describe, on PostgreSQL and SQLite."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from adapters import migrations as migrate
from adapters.orm import metadata


def _diff(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    return diff


def test_postgres_schema_matches_the_models(postgres_url) -> None:
    assert _diff(postgres_url) == []


def test_sqlite_schema_matches_the_models(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    migrate.upgrade(url)
    assert _diff(url) == []


def test_every_migration_downgrades_cleanly(tmp_path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'd.sqlite'}"
    migrate.upgrade(url)
    command.downgrade(migrate.alembic_config(url), "base")
    migrate.upgrade(url)
    assert _diff(url) == []
