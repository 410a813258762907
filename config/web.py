"""What every seatflow web app has: request ids, /healthz, /readyz and /metrics."""

from __future__ import annotations

import secrets
from typing import Any

from celery import Celery
from flask import Flask, Response, g, request
from sqlalchemy import Engine

from config import health
from config.settings import Settings


def install_common(app: Flask, settings: Settings, engine: Engine, celery: Celery) -> None:
    @app.before_request
    def _request_id() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given[:64] if given.isprintable() and given else secrets.token_hex(8)

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        return {"status": "ok"}, 200

    @app.get("/readyz")
    def readyz() -> tuple[dict[str, str], int]:
        return health.readiness(engine, celery)

    @app.get("/metrics")
    def metrics() -> Any:
        from config.metrics import exposition

        body, content_type = exposition(bool(settings.metrics_multiproc_dir), engine)
        return Response(body, content_type=content_type)
