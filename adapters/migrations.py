"""Run the Alembic migrations programmatically (`seatflow db upgrade`, Procfile `release`)."""

from __future__ import annotations

import os

from alembic import command
from alembic.config import Config

import migrations


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(migrations.FOLDER / "alembic.ini"))
    config.set_main_option("script_location", str(migrations.FOLDER))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(revision: str, database_url: str | None = None) -> None:
    """Undo the migrations after `revision` (`0007`, or `-1` for the newest one only)."""
    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str | None = None) -> str | None:
    """The migration the database is at (None: no seatflow tables yet)."""
    from alembic.runtime.migration import MigrationContext

    from config.database import make_engine
    from config.settings import Settings

    settings = Settings.from_env()
    if database_url:
        settings = settings.with_overrides(database_url=database_url)
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def revision(
    message: str,
    autogenerate: bool = False,
    database_url: str | None = None,
    version_path: str | None = None,
) -> list[str]:
    """A new migration numbered after the newest one (`0005_<message>.py`); with
    `autogenerate`, its operations are what the models have that the database lacks.
    Returns the paths written."""
    from alembic.script import ScriptDirectory

    from adapters.orm import metadata

    config = alembic_config(database_url)
    config.attributes["target_metadata"] = metadata
    if version_path:
        here = config.get_main_option("version_locations") or ""
        config.set_main_option("version_locations", f"{here}{os.pathsep}{version_path}")
    heads = ScriptDirectory.from_config(config).get_heads()
    number = max((int(h) for h in heads if h.isdigit()), default=0) + 1
    written = command.revision(
        config,
        message=message,
        autogenerate=autogenerate,
        rev_id=f"{number:04d}",
        version_path=version_path,
    )
    scripts = written if isinstance(written, list) else [written]
    return [s.path for s in scripts if s is not None]
