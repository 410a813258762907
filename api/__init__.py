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
    from api.errors import register_error_handlers
    from api.security import install_security_headers
    from config.celery import make_celery
    from config.database import make_engine
    from config.logging import configure_logging, warn_at_start
    from config.web import install_common
    from domain.catalog import feature_label
    from domain.money import format_money
    from services.deps import build_deps

    settings = settings or Settings.from_env()
    configure_logging(settings)
    warn_at_start(settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    celery, engine = make_celery(settings), make_engine(settings)
    app.extensions["seatflow.settings"] = settings
    app.extensions["seatflow.engine"] = engine
    app.extensions["seatflow.enqueue"] = lambda name, args: celery.send_task(
        name, args=args, retry=False
    )
    app.extensions["seatflow.deps"] = build_deps(settings)
    app.extensions["seatflow.celery"] = celery  # the operator pages' redrive
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
    register_error_handlers(app)
    install_security_headers(app, settings)
    install_common(app, settings, engine, celery, name="api")
    return app
