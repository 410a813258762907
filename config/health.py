"""Readiness checks shared by the web processes: database, broker, schema revision."""

from __future__ import annotations

from celery import Celery
from sqlalchemy import Engine, text

# The newest migration; a test keeps it equal to Alembic's head.
SCHEMA_REVISION = "0009"


def check_database(engine: Engine) -> str | None:
    """None when ready, else why not."""
    try:
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:
        return f"database unreachable ({type(exc).__name__})"
    if revision != SCHEMA_REVISION:
        return f"schema at {revision}, expected {SCHEMA_REVISION}: run `seatflow db upgrade`"
    return None


def check_broker(celery: Celery) -> str | None:
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"broker unreachable ({type(exc).__name__})"
    return None


def readiness(engine: Engine, celery: Celery) -> tuple[dict[str, str], int]:
    problems = {
        name: problem
        for name, problem in (
            ("database", check_database(engine)),
            ("broker", check_broker(celery)),
        )
        if problem
    }
    if problems:
        return {"status": "unavailable", **problems}, 503
    return {"status": "ready"}, 200
