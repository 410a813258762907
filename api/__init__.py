"""The org JSON API (`/api/v1`) and the upgrade pages: one blueprint and one serializer module per
feature. Imports `services` (and below) and `config`; never the receiver or Celery tasks."""

from __future__ import annotations

from flask import Flask

from config.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Application factory used by gunicorn (`api:create_app()`) and by tests."""

    from api import (
        billing,
        history,
        licenses,
        openapi,
        operator,
        pages,
        renewal,
        subscriptions,
        upgrades,
    )
    from api.csrf import install_csrf
    from api.errors import register_error_handlers
    from api.security import install_security_headers
    from bootstrap import bootstrap
    from config.logging import warn_at_start
    from domain.catalog import feature_label
    from domain.money import format_money
    from web.common import install_common

    runtime = bootstrap(settings)
    settings = runtime.settings
    warn_at_start(settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    # Built now, not at the first request: a database URL, broker or signing key that cannot
    # be used stops the start.
    runtime.celery, runtime.engine, runtime.deps  # noqa: B018
    app.secret_key = settings.session_secret
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
    )
    features = (subscriptions, upgrades, licenses, openapi, pages, billing, history, operator)
    for feature in (*features, renewal):
        app.register_blueprint(feature.bp)
    app.jinja_env.filters["money"] = format_money  # the one rule for showing amounts
    app.jinja_env.filters["feature"] = feature_label
    install_csrf(app)
    register_error_handlers(app)
    install_security_headers(app, settings)
    install_common(app, runtime, name="api")
    return app
