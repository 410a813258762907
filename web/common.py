"""What every seatflow web app has: its runtime, request ids, request latency, JSON nested too
deeply refused, and the probes (web/probes.py)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix

from bootstrap import Runtime
from config.metrics import observe_request
from inbox.events import loads_json
from web import EXTENSION, probes


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


def install_common(app: Flask, runtime: Runtime, name: str) -> None:
    """`name` (receiver, api) is the `app` label of this app's request latency."""
    app.extensions[EXTENSION] = runtime
    settings = runtime.settings
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

    app.register_blueprint(probes.health)
    if settings.web_metrics_public:  # else scraped from the gunicorn master's private listener
        app.register_blueprint(probes.metrics)
