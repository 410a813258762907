"""What every seatflow web app has: request ids, request latency, JSON nested too deeply
refused, /healthz, /readyz and (unless WEB_METRICS_PUBLIC=false) /metrics."""

from __future__ import annotations

import secrets
import time
from typing import Any

from celery import Celery
from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from config.metrics import observe_request
from config.settings import Settings
from inbox.events import loads_json
from web import probes as health


class GuardedJSON(DefaultJSONProvider):
    """Request JSON nested too deeply for the parser is a bad request (400), not a crash."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_json(s)


class _LowerCaseHost:
    """Host names are the same in any case: the Host header is compared with the trusted
    names (and written into absolute URLs) in lower case."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if "HTTP_HOST" in environ:
            environ["HTTP_HOST"] = environ["HTTP_HOST"].lower()
        return self.wsgi_app(environ, start_response)


def install_common(
    app: Flask, settings: Settings, engine: Engine, celery: Celery, name: str
) -> None:
    """`name` (receiver, api) is the `app` label of this app's request latency."""
    if settings.trusted_hosts:  # another Host header gets 400 (no poisoned absolute URLs)
        app.config["TRUSTED_HOSTS"] = [host.lower() for host in settings.trusted_hosts]
    app.wsgi_app = _LowerCaseHost(app.wsgi_app)  # type: ignore[method-assign]
    if settings.trusted_proxies:  # the scheme and client address the proxies saw
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    app.json = GuardedJSON(app)

    @app.before_request
    def _start_clock() -> None:
        g.started = time.perf_counter()

    @app.before_request
    def _request_id() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given[:64] if given.isprintable() and given else secrets.token_hex(8)

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    @app.after_request  # also after an error handler's answer (a 500 included)
    def _time_request(response: Response) -> Response:
        now = time.perf_counter()
        rule = request.url_rule.rule if request.url_rule else None
        observe_request(
            name, rule, request.method, response.status_code, now - g.get("started", now)
        )
        return response

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        return {"status": "ok"}, 200

    @app.get("/readyz")
    def readyz() -> tuple[dict[str, str], int]:
        return health.readiness(engine, celery)

    if not settings.web_metrics_public:
        return  # scraped from the gunicorn master's private listener (WEB_METRICS_PORT)

    @app.get("/metrics")
    def metrics() -> Any:
        from config.metrics import exposition

        body, content_type = exposition(bool(settings.metrics_multiproc_dir))
        return Response(body, content_type=content_type)
