"""Alembic environment: the database comes from Settings, never from alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData

from config.database import make_engine
from config.settings import Settings


def _models() -> MetaData:
    from adapters.orm import metadata

    return metadata


url = context.config.attributes.get("database_url")
settings = Settings.from_env()
if url:
    settings = settings.with_overrides(database_url=url)
engine = make_engine(settings)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        render_as_batch=connection.dialect.name == "sqlite",
        # The models, for autogenerate (`seatflow db revision`, `alembic check`).
        target_metadata=context.config.attributes.get("target_metadata") or _models(),
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
