"""The Stripe webhook receiver: verify, store durably, enqueue by task name, answer fast."""

from __future__ import annotations

from flask import Flask

from config.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Application factory used by gunicorn (`webhooks:create_app()`) and by tests."""
    from config.celery import make_celery
    from config.database import make_engine
    from config.logging import configure_logging, warn_at_start
    from web.common import install_common
    from webhooks.publisher import Publisher
    from webhooks.receiver import bp, enqueuer
    from webhooks.writer import InboxWriter

    settings = settings or Settings.from_env()
    configure_logging(settings)
    warn_at_start(settings)
    app = Flask(__name__)
    # The writer inserts on a connection of its own (detached from this pool); the pool
    # serves the health checks. No ping per checkout (a dropped connection is retried once).
    engine = make_engine(settings, isolation_level="AUTOCOMMIT", pool_pre_ping=False)
    celery = make_celery(settings)
    app.extensions["seatflow.settings"] = settings
    app.extensions["seatflow.engine"] = engine
    app.extensions["seatflow.celery"] = celery
    publisher = Publisher(enqueuer(celery), settings.webhook_publish_interval_ms / 1000)
    app.extensions["seatflow.writer"] = InboxWriter(
        engine, publisher.send, max_wait=settings.webhook_commit_wait_ms / 1000
    )
    app.register_blueprint(bp)
    install_common(app, settings, engine, celery, name="receiver")
    return app
