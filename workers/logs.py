"""The worker's and beat's log lines in production: one JSON object each, like seatflow's.

Celery formats its own records and, in a pool child, turns whatever is written to stderr
into a record of its own, so seatflow's JSON came out wrapped in Celery's prefix. A receiver
of `setup_logging` takes logging over: Celery then installs no handler and redirects no
stream, and every record (Celery's, kombu's, seatflow's) goes through the root logger's JSON
handler. The start-up banner and the shutdown notices Celery prints itself become records
too.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from celery.apps import worker as celery_worker
from celery.signals import celeryd_after_setup, setup_logging

import bootstrap
from config.logging import JsonFormatter, json_root_logger

_FORMAT = JsonFormatter()


def _json_logging(loglevel: int | str | None = None, **_: Any) -> None:
    bootstrap.runtime()  # configures seatflow's own logger
    json_root_logger(logging.getLevelName(loglevel) if isinstance(loglevel, str) else loglevel)


def _quiet_start(sender: str, instance: Any, **_: Any) -> None:
    """No banner (Celery checks `quiet` right after this signal); what it said, as one
    record."""
    instance.quiet = True
    logging.getLogger("celery.worker").info(
        "worker starting",
        extra={
            "hostname": sender,
            "queues": sorted(instance.app.amqp.queues),
            "concurrency": instance.concurrency,
            "pool": getattr(instance.pool_cls, "__name__", str(instance.pool_cls)),
        },
    )


def _say(msg: str, f: Any = None) -> None:
    """Celery's notices from signal handlers, as a JSON line written without a lock."""
    record = logging.makeLogRecord(
        {"name": "celery.worker", "levelname": "WARNING", "levelno": 30, "msg": msg.strip()}
    )
    stream = f or sys.__stderr__
    if stream is not None:
        os.write(stream.fileno(), (_FORMAT.format(record) + "\n").encode())


def install() -> None:
    if not bootstrap.runtime().settings.production:
        return  # development keeps Celery's readable lines
    setup_logging.connect(_json_logging, weak=False)
    celeryd_after_setup.connect(_quiet_start, weak=False)
    celery_worker.safe_say = _say
