"""Entry point for `celery -A workers.app worker|beat`: the app with every task registered."""

from workers import logs
from workers.tasks import app

logs.install()

celery_app = app

__all__ = ["app", "celery_app"]
