"""The Stripe webhook receiver: verify, store durably, enqueue by task name, answer fast."""

from __future__ import annotations

from flask import Flask

from config.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Application factory used by gunicorn (`webhooks:create_app()`) and by tests."""
    from config.celery import make_celery
    from config.database import make_engine
    from config.logging import configure_logging
    from config.web import install_common
    from webhooks.receiver import bp

    settings = settings or Settings.from_env()
    configure_logging(settings)
    app = Flask(__name__)
    engine, celery = make_engine(settings), make_celery(settings)
    app.extensions["seatflow.settings"] = settings
    app.extensions["seatflow.engine"] = engine
    app.extensions["seatflow.celery"] = celery
    app.register_blueprint(bp)
    install_common(app, settings, engine, celery)
    return app
