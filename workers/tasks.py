"""Celery tasks: plumbing only. Decode ids, call a handler, declare the retry policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Task

from config.tasks import PROCESS_STRIPE_EVENT, SWEEP_INBOX
from workers import bootstrap, handlers, sweeper

app = bootstrap.celery()
_settings = bootstrap.settings()


class InboxTask(Task):  # type: ignore[misc]
    """Records every failed attempt on the inbox row; the last one makes it `dead`."""

    def on_retry(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        handlers.record_failure(args[0], bootstrap.unit_of_work(), exc, final=False)

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        handlers.record_failure(args[0], bootstrap.unit_of_work(), exc, final=True)


@app.task(  # type: ignore[untyped-decorator]
    name=PROCESS_STRIPE_EVENT,
    base=InboxTask,
    autoretry_for=(Exception,),
    max_retries=_settings.task_max_retries,
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=True,
)
def process_stripe_event(event_id: str) -> str:
    return handlers.process_stripe_event(event_id, bootstrap.unit_of_work())


@app.task(
    name=SWEEP_INBOX,  # type: ignore[untyped-decorator]
    ignore_result=True,
)
def sweep_inbox() -> int:
    swept = sweeper.sweep(
        bootstrap.unit_of_work(),
        now=datetime.now(UTC),
        older_than=timedelta(seconds=_settings.sweep_after_seconds),
        enqueue=lambda event_id: process_stripe_event.apply_async(args=[event_id], retry=False),
    )
    return len(swept)
