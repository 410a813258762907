"""The Stripe webhook receiver: verify, store durably, enqueue by task name, answer fast."""

from __future__ import annotations

from flask import Flask

from config.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Application factory used by gunicorn (`webhooks:create_app()`) and by tests."""
    from config.celery import make_celery
    from config.database import make_engine
    from config.logging import configure_logging
    from webhooks.receiver import bp

    settings = settings or Settings.from_env()
    configure_logging(settings)
    app = Flask(__name__)
    app.extensions["seatflow.settings"] = settings
    app.extensions["seatflow.engine"] = make_engine(settings)
    app.extensions["seatflow.celery"] = make_celery(settings)
    app.register_blueprint(bp)

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        return {"status": "ok"}, 200

    return app
