"""Celery tasks: plumbing only. Decode ids, call a handler, declare the retry policy."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init

import bootstrap
from adapters.database import TRANSIENT_DB_ERRORS
from adapters.stripe_errors import StripeUnavailable
from config.tasks import (
    CHARGE_UPGRADE,
    EXPIRE_UNPAID_UPGRADES,
    PROCESS_STRIPE_EVENT,
    PROCESS_STRIPE_EVENTS,
    PRUNE_INBOX,
    PRUNE_OFFLINE_ACTIVATIONS,
    PUSH_DEFAULT_CARD,
    PUSH_UPGRADE,
    RECONCILE,
    REFUND_UPGRADE,
    RELEASE_SCHEDULE,
    RESUME_UPGRADES,
    SCHEDULE_CHANGE,
    SWEEP_INBOX,
)
from services import admin, payment_methods, stripe_events
from services import inbox as inbox_service
from services.upgrades import charge as upgrade_charge
from services.upgrades import payment as upgrade_payment
from services.upgrades import renewal
from services.upgrades import steps as upgrade_steps
from services.upgrades.charge import RetryLater
from workers import garbage

log = logging.getLogger("seatflow.workers")
_runtime = bootstrap.runtime()
app = _runtime.celery
app.conf.beat_scheduler = "workers.beat:SingletonScheduler"
_settings = _runtime.settings
# Failures a later attempt may cure; anything else is a bug or a broken rule.
TRANSIENT = (StripeUnavailable, *TRANSIENT_DB_ERRORS, ConnectionError, TimeoutError)
RETRY = {
    "max_retries": _settings.task_max_retries,
    "retry_backoff": 2,
    "retry_backoff_max": 600,
    "retry_jitter": True,
}


@worker_init.connect  # type: ignore[untyped-decorator]
def _serve_metrics(**_: Any) -> None:
    """The worker's metrics on their own port (WORKER_METRICS_PORT; 0 turns it off)."""
    from config.logging import warn_at_start
    from config.metrics import serve

    warn_at_start(_settings)
    port = _settings.worker_metrics_port
    multiprocess = bool(_settings.metrics_multiproc_dir)
    if port and not serve(port, multiprocess, _settings.worker_metrics_host):
        log.warning("metrics port busy", extra={"port": port})


# Before the pool's processes are forked, so each inherits it (workers/garbage.py).
worker_init.connect(garbage.collect_less_often, weak=False)


class InboxTask(Task):  # type: ignore[misc]
    """Records every failed attempt on the inbox row; the last one makes it `dead`."""

    def on_retry(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        stripe_events.record_failure(args[0], _runtime.unit_of_work(), exc, final=False)

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        stripe_events.record_failure(args[0], _runtime.unit_of_work(), exc, final=True)


@app.task(name=PROCESS_STRIPE_EVENT, base=InboxTask, autoretry_for=(Exception,), **RETRY)  # type: ignore[untyped-decorator]
def process_stripe_event(event_id: str) -> str:
    return stripe_events.process_stripe_event(event_id, _runtime.unit_of_work(), _runtime.deps)


# Under load a message also applies up to this many stored events never tried yet (their
# own messages, queued behind it, then find them done): a message's fixed cost shared.
BACKLOG = 64


@app.task(name=PROCESS_STRIPE_EVENTS, ignore_result=True)  # type: ignore[untyped-decorator]
def process_stripe_events(event_ids: list[str]) -> dict[str, int]:
    return stripe_events.process_stripe_events(
        event_ids,
        _runtime.unit_of_work,
        _runtime.deps,
        retry_alone=_retry_alone,
        out_of_time=(SoftTimeLimitExceeded,),  # the message is redelivered or swept
        backlog=BACKLOG,
    )


def _retry_alone(event_id: str) -> bool:
    try:
        process_stripe_event.apply_async(args=[event_id], countdown=1, retry=False)
    except Exception as exc:
        log.warning(
            "retry not sent, left for the sweeper",
            extra={"event_id": event_id, "error": type(exc).__name__},
        )
        return False
    return True


@app.task(bind=True, name=CHARGE_UPGRADE, autoretry_for=TRANSIENT, **RETRY)  # type: ignore[untyped-decorator]
def charge_upgrade(self: Any, upgrade_id: str) -> str:
    try:
        return upgrade_charge.charge_upgrade(upgrade_id, _runtime.unit_of_work(), _runtime.deps)
    except RetryLater as later:  # the service counts and bounds the attempts
        raise self.retry(countdown=later.seconds, max_retries=None) from None


@app.task(name=PUSH_UPGRADE, autoretry_for=TRANSIENT, **RETRY)  # type: ignore[untyped-decorator]
def push_upgrade_to_stripe(upgrade_id: str) -> bool:
    return upgrade_payment.push_upgrade(upgrade_id, _runtime.unit_of_work(), _runtime.deps)


@app.task(name=REFUND_UPGRADE, autoretry_for=TRANSIENT, **RETRY)  # type: ignore[untyped-decorator]
def refund_upgrade(upgrade_id: str) -> str:
    return upgrade_steps.refund_upgrade(upgrade_id, _runtime.unit_of_work(), _runtime.deps)


@app.task(name=PUSH_DEFAULT_CARD, autoretry_for=TRANSIENT, **RETRY)  # type: ignore[untyped-decorator]
def push_default_card(organization_id: str) -> bool:
    return payment_methods.push_default_card(
        organization_id, _runtime.unit_of_work(), _runtime.deps
    )


@app.task(name=EXPIRE_UNPAID_UPGRADES)  # type: ignore[untyped-decorator]
def expire_unpaid_upgrades() -> int:
    return len(upgrade_payment.expire_unpaid(_runtime.unit_of_work(), _runtime.deps))


@app.task(name=SCHEDULE_CHANGE, autoretry_for=TRANSIENT, **RETRY)  # type: ignore[untyped-decorator]
def schedule_change(change_id: str) -> str:
    return renewal.push_change(change_id, _runtime.unit_of_work(), _runtime.deps)


@app.task(name=RELEASE_SCHEDULE, autoretry_for=TRANSIENT, **RETRY)  # type: ignore[untyped-decorator]
def release_schedule(change_id: str) -> bool:
    return renewal.release_change(change_id, _runtime.unit_of_work(), _runtime.deps)


@app.task(name=RESUME_UPGRADES)  # type: ignore[untyped-decorator]
def resume_upgrades() -> int:
    resumed = upgrade_charge.resume_stuck(_runtime.unit_of_work(), _runtime.deps)
    return resumed + renewal.resume(_runtime.unit_of_work(), _runtime.deps)


@app.task(name=SWEEP_INBOX, ignore_result=True)  # type: ignore[untyped-decorator]
def sweep_inbox() -> int:
    swept = inbox_service.sweep(
        _runtime.unit_of_work(),
        now=datetime.now(UTC),
        older_than=timedelta(seconds=_settings.sweep_after_seconds),
        enqueue=lambda ids: process_stripe_events.apply_async(
            args=[ids], retry=False, argsrepr=f"[{len(ids)} events]"
        ),
    )
    return len(swept)


@app.task(name=PRUNE_INBOX, ignore_result=True)  # type: ignore[untyped-decorator]
def prune_inbox() -> int:
    retention = timedelta(days=_settings.inbox_retention_days)
    return admin.prune_applied(_runtime.unit_of_work(), retention)


@app.task(name=PRUNE_OFFLINE_ACTIVATIONS, ignore_result=True)  # type: ignore[untyped-decorator]
def prune_offline_activations() -> int:
    retention = timedelta(days=_settings.offline_released_retention_days)
    return admin.prune_released_activations(_runtime.unit_of_work(), retention)


@app.task(name=RECONCILE, ignore_result=True)  # type: ignore[untyped-decorator]
def reconcile_all() -> dict[str, int]:
    from services import reconciliation

    summary = reconciliation.run_all(_runtime.unit_of_work(), _runtime.deps)
    failed = len(summary.failed)
    return {"drift": sum(summary.drift.values()), "flagged": summary.flagged, "failed": failed}
