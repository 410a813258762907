"""The probes of both web apps: /healthz (the process answers), /readyz (database, broker,
schema at the head of Alembic's scripts) and /metrics (what this process group counted).

Two blueprints: `health`, registered in every app, and `metrics`, registered unless
WEB_METRICS_PUBLIC=false (then gunicorn's master serves it on a private listener).
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from flask import Blueprint, Response
from sqlalchemy import Engine, text

import migrations
from config.metrics import exposition
from web import runtime

health = Blueprint("health", __name__)
metrics = Blueprint("metrics", __name__)


@health.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200


@health.get("/readyz")
def readyz() -> tuple[dict[str, str], int]:
    current = runtime()
    return readiness(current.engine, current.celery)


@metrics.get("/metrics")
def scrape() -> Any:
    body, content_type = exposition(bool(runtime().settings.metrics_multiproc_dir))
    return Response(body, content_type=content_type)


def check_database(engine: Engine) -> str | None:
    """None when ready, else why not."""
    try:
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:
        return f"database unreachable ({type(exc).__name__})"
    expected = migrations.head()
    if revision != expected:
        return f"schema at {revision}, expected {expected}: run `seatflow db upgrade`"
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
