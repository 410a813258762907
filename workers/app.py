"""Entry point for `celery -A workers.app worker|beat`: the app with every task registered."""

from workers.tasks import app

celery_app = app

__all__ = ["app", "celery_app"]
