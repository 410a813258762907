"""Command handlers (one per command) and the inbox processor that routes events to them.

An event is marked done in the same transaction as its effect, so a task delivered twice
finds the row done and does nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from adapters.inbox_repository import InboxRow
from adapters.stripe_parsing import resolve, subscription_snapshot, to_command
from adapters.unit_of_work import SqlUnitOfWork
from config.inbox import DONE_STATES, IncomingEvent, load_payload
from config.metrics import EVENT_LAG, PROCESSED, RECEIPT_LAG
from domain.catalog import Catalog
from domain.commands import (
    AdoptPaymentMethod,
    Command,
    ConfirmInvoicePaid,
    RecordPaymentActionRequired,
    RecordPaymentFailed,
    SyncSubscription,
)
from domain.errors import DomainError, OrganizationNotFound, UnknownLicenseType
from domain.model import Organization, SubscriptionSnapshot
from services import messagebus, payment_methods, receipts, upgrade_payment
from services.deps import Deps

log = logging.getLogger("seatflow.workers")


def _now() -> datetime:
    return datetime.now(UTC)


def _organization_for(uow: SqlUnitOfWork, cmd: SyncSubscription) -> Organization:
    """The organization of the event's Stripe customer. Only the customer says whose it is:
    metadata can be edited by anyone with dashboard access, so it never names one (set the
    customer with `seatflow org create --customer`)."""
    org = None
    if cmd.stripe_customer_id:
        org = uow.organizations.get_by_customer(cmd.stripe_customer_id, lock=True)
    if org is None:
        raise OrganizationNotFound(f"no organization for customer {cmd.stripe_customer_id!r}")
    return org


def sync_subscription(cmd: SyncSubscription, uow: SqlUnitOfWork, deps: Deps) -> str:
    org = _organization_for(uow, cmd)
    snapshot = cmd.snapshot
    current = org.subscription_by_stripe_id(snapshot.stripe_subscription_id)
    if (
        current is not None
        and current.stripe_version == snapshot.version
        and (deps.tie_break_by_fetch)
    ):
        # Two events in the same second: their order is unknown, so ask Stripe for the truth.
        fetched = deps.gateway.retrieve("subscription", snapshot.stripe_subscription_id)
        snapshot = subscription_snapshot(fetched, snapshot.version)
    snapshot = with_catalog_tier(snapshot, uow.catalog.load())
    if not snapshot.license_type:
        price = uow.catalog.load().by_stripe_price(snapshot.stripe_price_id)
        if price is None:
            raise UnknownLicenseType(
                f"price {snapshot.stripe_price_id!r} is neither in the catalog nor has "
                "metadata.license_type"
            )
        snapshot = replace(snapshot, license_type=price.license_type)
    return org.sync_subscription(snapshot, cmd.event_id or None).outcome.value


def with_catalog_tier(snapshot: SubscriptionSnapshot, catalog: Catalog) -> SubscriptionSnapshot:
    """The catalog knows the tier of its own prices better than a price's metadata."""
    known = catalog.by_stripe_price(snapshot.stripe_price_id)
    return replace(snapshot, tier=known.tier) if known else snapshot


HANDLERS: dict[type[Command], Callable[[Any, SqlUnitOfWork, Deps], str]] = {
    SyncSubscription: sync_subscription,
    # The saga applies the payment; the receipt (number, hosted pages) is kept beside it.
    ConfirmInvoicePaid: receipts.confirm_invoice_paid,
    RecordPaymentFailed: upgrade_payment.record_payment_failed,
    AdoptPaymentMethod: payment_methods.adopt_payment_method,
    RecordPaymentActionRequired: upgrade_payment.record_action_required,
}


STALE_NOTE = "a newer state of this Stripe object was already applied"


def _apply(event_id: str, uow: SqlUnitOfWork, deps: Deps) -> tuple[InboxRow | None, str]:
    """Apply one stored event inside `uow`'s transaction (not committed): its row and final
    state. A broken rule raises its DomainError; the caller decides what that costs."""
    row = uow.inbox.get(event_id, lock=True)
    if row is None:
        log.warning("event not in inbox", extra={"event_id": event_id})
        return None, "missing"
    if row.state in DONE_STATES:
        return None, row.state
    data = load_payload(row.payload)
    refused = deps.origin.refuses(IncomingEvent.from_dict(data))
    if refused is not None:  # another Stripe mode or account: recorded with why, not applied
        uow.inbox.mark(row.event_id, "ignored", _now(), error=refused, attempt=True)
        log.warning("event of another mode or account ignored", extra={"event_id": event_id})
        return row, "ignored"
    event = resolve(data, deps.gateway.retrieve, deps.verify_by_fetch)
    command = to_command(event)
    state = "ignored" if command is None else HANDLERS[type(command)](command, uow, deps)
    note = STALE_NOTE if state == "skipped_stale" else None
    uow.inbox.mark(event_id, state, _now(), error=note, attempt=True)
    messagebus.handle(uow, deps)  # what the change causes, in the same transaction
    return row, state


def _done(row: InboxRow | None, state: str, now: datetime) -> None:
    if row is None:
        return
    _observe(row, state, now)
    log.info(
        "event processed", extra={"event_id": row.event_id, "event_type": row.type, "state": state}
    )


def process_stripe_event(event_id: str, uow: SqlUnitOfWork, deps: Deps) -> str:
    """Apply one stored event; return the row's final state. Safe to call any number of times."""
    with uow:
        try:
            row, state = _apply(event_id, uow, deps)
        except DomainError as exc:
            # A broken rule will not heal by retrying: park the event for a human.
            uow.rollback()
            uow.inbox.mark(event_id, "dead", _now(), error=f"{exc.code}: {exc}", attempt=True)
            uow.commit()
            log.warning("event dead", extra={"event_id": event_id, "code": exc.code})
            return "dead"
        uow.commit()
    _done(row, state, _now())
    return state


def process_stripe_events(
    event_ids: list[str],
    unit_of_work: Callable[[], SqlUnitOfWork],
    deps: Deps,
    retry_alone: Callable[[str], bool],
) -> dict[str, int]:
    """The events of one receiver commit, in order: together in one transaction (one commit,
    one fsync, each organization loaded once), each with the outcome it would have alone.

    If anything goes wrong in the shared transaction (a broken rule, a lost race, a
    deadlock), it is rolled back whole and the events are applied one by one, each in its own
    transaction, as `process_stripe_event` does. Returns a count of the final states.
    """
    if len(event_ids) > 1:
        try:
            return _apply_together(event_ids, unit_of_work(), deps)
        except SoftTimeLimitExceeded:
            raise  # out of time: the batch is redelivered or swept
        except Exception as exc:
            log.info(
                "batch applied one by one",
                extra={"events": len(event_ids), "error": type(exc).__name__},
            )
    return _apply_one_by_one(event_ids, unit_of_work, deps, retry_alone)


def _apply_together(event_ids: list[str], uow: SqlUnitOfWork, deps: Deps) -> dict[str, int]:
    with uow:
        applied = []
        for event_id in event_ids:
            applied.append(_apply(event_id, uow, deps))
            uow.flush()  # the next event of the same organization reads what this one wrote
        uow.commit()
    now = _now()
    for row, state in applied:
        _done(row, state, now)
    return dict(Counter(state for _, state in applied))


def _apply_one_by_one(
    event_ids: list[str],
    unit_of_work: Callable[[], SqlUnitOfWork],
    deps: Deps,
    retry_alone: Callable[[str], bool],
) -> dict[str, int]:
    """Each event in its own transaction. One that fails is recorded and handed to
    `retry_alone` (the single-event task, which retries it with backoff until it is applied or
    `dead`); the others go on. If the hand-over fails too, the row is still pending and the
    sweeper sends it again."""
    states: Counter[str] = Counter()
    for event_id in event_ids:
        try:
            state = process_stripe_event(event_id, unit_of_work(), deps)
        except SoftTimeLimitExceeded:
            raise  # out of time: the rest of the batch is redelivered or swept
        except Exception as exc:
            log.warning(
                "event failed in a batch, retried alone",
                extra={"event_id": event_id, "error": type(exc).__name__},
            )
            record_failure(event_id, unit_of_work(), exc, final=False)
            state = "retrying" if retry_alone(event_id) else "pending"
        states[state] += 1
    return dict(states)


def _observe(row: InboxRow, state: str, now: datetime) -> None:
    PROCESSED.labels(row.type, state).inc()
    if state == "applied":
        EVENT_LAG.observe(max(0.0, now.timestamp() - row.created))
        RECEIPT_LAG.observe(max(0.0, (now - row.received_at).total_seconds()))


def record_failure(event_id: str, uow: SqlUnitOfWork, error: BaseException, final: bool) -> None:
    """Note a failed attempt; after the last retry the event becomes `dead`."""
    with uow:
        row = uow.inbox.get(event_id, lock=True)
        if row is None or row.state in DONE_STATES:
            return
        state = "dead" if final else row.state
        uow.inbox.mark(
            event_id, state, _now(), error=f"{type(error).__name__}: {error}"[:2000], attempt=True
        )
        uow.commit()
