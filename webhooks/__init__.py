"""The Stripe webhook receiver: verify, store durably, enqueue by task name, answer fast."""

from __future__ import annotations

from flask import Flask

from config.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Application factory used by gunicorn (`webhooks:create_app()`) and by tests."""
    from bootstrap import bootstrap
    from config.logging import warn_at_start
    from web.common import install_common
    from webhooks.publisher import Publisher
    from webhooks.receiver import bp, enqueuer
    from webhooks.writer import InboxWriter

    # The writer inserts on a connection of its own (detached from this pool); the pool
    # serves the health checks. No ping per checkout (a dropped connection is retried once).
    runtime = bootstrap(settings, isolation_level="AUTOCOMMIT", pool_pre_ping=False)
    settings = runtime.settings
    warn_at_start(settings)
    app = Flask(__name__)
    engine = runtime.engine
    publisher = Publisher(enqueuer(runtime.celery), settings.webhook_publish_interval_ms / 1000)
    runtime.writer = InboxWriter(
        engine, publisher.send, max_wait=settings.webhook_commit_wait_ms / 1000
    )
    app.register_blueprint(bp)
    install_common(app, runtime, name="receiver")
    return app
