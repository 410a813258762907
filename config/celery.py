"""The Celery app and its defaults, configured for at-least-once processing.

Both the receiver (which only sends tasks by name) and the workers build their app here, so
the broker, queue and serializer settings can never disagree.
"""

from __future__ import annotations

from datetime import timedelta

from celery import Celery

from config.checks import broker_problem
from config.settings import ConfigError, Settings
from config.tasks import (
    EXPIRE_UNPAID_UPGRADES,
    PRUNE_INBOX,
    PRUNE_OFFLINE_ACTIVATIONS,
    RECONCILE,
    RESUME_UPGRADES,
    SWEEP_INBOX,
)


def _transport_options(settings: Settings) -> dict[str, object]:
    if settings.broker_url.startswith(("redis://", "rediss://")):
        return {
            # Longer than any task may run, so a slow task is never handed out twice.
            "visibility_timeout": settings.visibility_timeout,
            # Look for messages whose worker died (unacked past the visibility timeout)
            # every few seconds, not kombu's default of every ~100 s.
            "unacked_restore_interval": min(10, max(1, settings.visibility_timeout // 3)),
            "unacked_restore_throttle": 1,
            # A broker that is down must fail a publish fast (the sweeper re-sends later).
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
            # Publishing fails at once instead of retrying for seconds inside a request.
            # (The worker's consumer reconnects on its own, forever: see below.)
            "max_retries": 0,
        }
    if settings.broker_url.startswith("sqla+sqlite"):
        return {"connect_args": {"timeout": 10}}
    return {}


def _transport(settings: Settings) -> str | None:
    if settings.broker_url.startswith(("redis://", "rediss://")):
        return "config.redis_broker:Transport"
    return None  # the URL's scheme decides


def _every(task: str, seconds: float) -> dict[str, object]:
    # A run that could not be sent in its own period is dropped, not piled up.
    return {"task": task, "schedule": timedelta(seconds=seconds), "options": {"expires": seconds}}


def make_celery(settings: Settings) -> Celery:
    problem = broker_problem(settings.broker_url, settings.production)
    if problem:  # settings read from the environment were checked already; these may not be
        raise ConfigError(problem)
    settings.ensure_data_dir()
    app = Celery("seatflow", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        # At least once: a message is acknowledged only after the task finished, and a
        # worker that dies mid-task gives it back to the broker.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # Each child's next message is already fetched when it finishes one (the pool hands
        # messages only to idle children); unacknowledged, so a dead worker loses none.
        worker_prefetch_multiplier=4,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_store_errors_even_if_ignored=False,
        task_time_limit=settings.task_time_limit,
        task_soft_time_limit=max(1, settings.task_time_limit - 10),
        task_default_queue=settings.queue_name,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_transport_options=_transport_options(settings),
        broker_transport=_transport(settings),
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        # beat's record of when each job last ran, in the data directory rather than the
        # directory beat was started from (`--schedule` still overrides it).
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        beat_schedule={
            "sweep-inbox": _every(SWEEP_INBOX, settings.sweep_interval_seconds),
            "resume-upgrades": _every(RESUME_UPGRADES, 60),
            "reconcile": _every(RECONCILE, settings.reconcile_interval_seconds),
            "prune-inbox": _every(PRUNE_INBOX, 3600),
            "prune-offline-activations": _every(PRUNE_OFFLINE_ACTIVATIONS, 3600),
            "expire-unpaid-upgrades": _every(EXPIRE_UNPAID_UPGRADES, 600),
        },
    )
    return app


def prepare_broker(app: Celery) -> None:
    """Declare the task queue once, before several processes race to declare it.

    kombu's SQLAlchemy transport creates a queue with a get-or-create that is not safe when
    web, worker and beat start together on a fresh SQLite file.
    """
    with app.connection_for_write() as connection:
        connection.default_channel.queue_declare(queue=app.conf.task_default_queue)
