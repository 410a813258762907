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

from config.metrics import EVENT_LAG, PROCESSED, RECEIPT_LAG
from domain.admission import Admitted, customer_of
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
from domain.model import SubscriptionSnapshot, SyncOutcome
from domain.ports import InboxRow, Mark, UnitOfWork
from domain.renewal import SyncSchedule
from inbox.states import DONE_STATES
from services import messagebus, payment_methods
from services.deps import Deps
from services.ownership import NotOurs, Outcome, not_ours, owner_of_customer
from services.upgrades import payment as upgrade_payment
from services.upgrades import renewal_sync

log = logging.getLogger("seatflow.workers")


def _now() -> datetime:
    return datetime.now(UTC)


def sync_subscription(cmd: SyncSubscription, uow: UnitOfWork, deps: Deps) -> Outcome:
    org = owner_of_customer(uow, cmd.stripe_customer_id)
    if isinstance(org, NotOurs):
        raise OrganizationNotFound(f"no organization for customer {cmd.stripe_customer_id!r}")
    catalog = uow.catalog.load()
    snapshot = with_catalog_tier(cmd.snapshot, catalog)
    if not snapshot.license_type:
        price = catalog.by_stripe_price(snapshot.stripe_price_id)
        if price is None:
            raise UnknownLicenseType(
                f"price {snapshot.stripe_price_id!r} is neither in the catalog nor has "
                "metadata.license_type"
            )
        snapshot = replace(snapshot, license_type=price.license_type)
    renewal_sync.on_subscription(uow, org, snapshot, deps.clock.now())
    outcome = org.sync_subscription(snapshot, cmd.event_id or None).outcome
    if outcome is SyncOutcome.SECOND_LIVE:
        sub_id = snapshot.stripe_subscription_id
        uow.drift.record(
            deps.clock.now(),
            kind="stripe_state",
            organization_id=org.id,
            subject=sub_id,
            cause=f"a second live {snapshot.license_type} subscription at Stripe",
            flagged=True,
            repaired=False,
        )
        return not_ours("subscription", f"{sub_id} is a second live subscription", sub_id)
    if outcome is SyncOutcome.NOT_CURRENT:
        return NotOurs("subscription", "a subscription that is not the current one ended")
    return outcome.value


def with_catalog_tier(snapshot: SubscriptionSnapshot, catalog: Catalog) -> SubscriptionSnapshot:
    """The catalog knows the tier of its own prices better than a price's metadata."""
    known = catalog.by_stripe_price(snapshot.stripe_price_id)
    return replace(snapshot, tier=known.tier) if known else snapshot


HANDLERS: dict[type[Command], Callable[[Any, UnitOfWork, Deps], Outcome]] = {
    SyncSubscription: sync_subscription,
    ConfirmInvoicePaid: upgrade_payment.confirm_invoice_paid,
    RecordPaymentFailed: upgrade_payment.record_payment_failed,
    AdoptPaymentMethod: payment_methods.adopt_payment_method,
    RecordPaymentActionRequired: upgrade_payment.record_action_required,
    SyncSchedule: renewal_sync.sync_schedule,
}


STALE_NOTE = "a newer state of this Stripe object was already applied"


def admit_stored(event_ids: list[str], uow: UnitOfWork, deps: Deps) -> dict[str, Admitted]:
    """What each stored, not yet done event asks for, with every Stripe read it needs done
    now, before any row is locked (a slow Stripe answer then holds no lock)."""
    with uow:
        rows = uow.inbox.lock_all(event_ids, lock=False)
    return _admit(rows, uow, deps)


def _admit(rows: dict[str, InboxRow], uow: UnitOfWork, deps: Deps) -> dict[str, Admitted]:
    admitted = {
        event_id: deps.door.admit(row.payload)
        for event_id, row in rows.items()
        if row.state not in DONE_STATES
    }
    return _break_ties(admitted, uow, deps)


def _break_ties(admitted: dict[str, Admitted], uow: UnitOfWork, deps: Deps) -> dict[str, Admitted]:
    """Two events of a subscription in the same second: their order is unknown, so Stripe is
    asked for the truth (before the locks are taken)."""
    syncs = {
        event_id: a.command
        for event_id, a in admitted.items()
        if isinstance(a.command, SyncSubscription)
    }
    if not deps.tie_break_by_fetch or not syncs:
        return admitted
    with uow:
        versions = uow.subscriptions.versions(
            {cmd.snapshot.stripe_subscription_id for cmd in syncs.values()}
        )
    for event_id, cmd in syncs.items():
        sub_id = cmd.snapshot.stripe_subscription_id
        if versions.get(sub_id) == cmd.snapshot.version:
            fetched = deps.door.subscription(sub_id, cmd.snapshot.version)
            admitted[event_id] = Admitted(replace(cmd, snapshot=fetched))
    return admitted


def _apply_row(
    row: InboxRow, admitted: Admitted, uow: UnitOfWork, deps: Deps
) -> tuple[str, str | None]:
    """Apply a locked, not yet done event inside `uow`'s transaction: its final state and the
    note its row keeps. No Stripe call: what Stripe had to say was read when it was admitted."""
    if admitted.refused is not None:
        log.warning("event not applied", extra={"event_id": row.event_id})
        return "ignored", admitted.refused
    command = admitted.command
    if command is None:
        return "ignored", None
    if not isinstance(command, SyncSubscription):
        # These handlers query tables an earlier event of the same transaction may have
        # changed; a subscription sync reads only its aggregate and the licenses repository,
        # which both remember what this transaction did.
        uow.flush()
    outcome = HANDLERS[type(command)](command, uow, deps)
    messagebus.handle(uow, deps)  # what the change causes, in the same transaction
    if isinstance(outcome, NotOurs):
        return "ignored", outcome.note
    return outcome, STALE_NOTE if outcome == "skipped_stale" else None


def _apply(
    event_id: str, admitted: Admitted | None, uow: UnitOfWork, deps: Deps
) -> tuple[InboxRow | None, str]:
    """Apply one admitted event inside `uow`'s transaction (not committed): its row and final
    state. A broken rule raises its DomainError; the caller decides what that costs."""
    row = uow.inbox.get(event_id, lock=True)
    if row is None:
        log.warning("event not in inbox", extra={"event_id": event_id})
        return None, "missing"
    if row.state in DONE_STATES or admitted is None:
        return None, row.state
    state, note = _apply_row(row, admitted, uow, deps)
    uow.inbox.mark(event_id, state, _now(), error=note, attempt=True)
    return row, state


def _done(row: InboxRow | None, state: str, now: datetime) -> None:
    if row is None:
        return
    _observe([(row, state)], now)
    log.info(
        "event processed", extra={"event_id": row.event_id, "event_type": row.type, "state": state}
    )


def process_stripe_event(event_id: str, uow: UnitOfWork, deps: Deps) -> str:
    """Apply one stored event; return the row's final state. Safe to call any number of times."""
    admitted = admit_stored([event_id], uow, deps).get(event_id)
    with uow:
        try:
            row, state = _apply(event_id, admitted, uow, deps)
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
    unit_of_work: Callable[[], UnitOfWork],
    deps: Deps,
    retry_alone: Callable[[str], bool],
    out_of_time: tuple[type[BaseException], ...] = (),
    backlog: int = 0,
) -> dict[str, int]:
    """The events of one receiver commit, in order: together in one transaction (one commit,
    one fsync, each organization loaded once), each with the outcome it would have alone.

    `backlog`: up to that many other stored events never tried yet are taken on too, in the
    same transaction (under load a message's fixed cost is then shared by more events; the
    messages naming them later find them done). One that would need Stripe, or that another
    worker holds, is left to its own message.

    If anything goes wrong in the shared transaction (a broken rule, a lost race, a
    deadlock), it is rolled back whole and the message's own events are applied one by one,
    each in its own transaction, as `process_stripe_event` does. Returns a count of the final
    states of the message's events (and of those taken on, under their states).
    """
    if len(event_ids) > 1 or backlog > 0:
        try:
            return _apply_together(event_ids, unit_of_work(), deps, backlog)
        except out_of_time:
            raise  # out of time: the batch is redelivered or swept
        except Exception as exc:
            log.info(
                "batch applied one by one",
                extra={"events": len(event_ids), "error": type(exc).__name__},
            )
    return _apply_one_by_one(event_ids, unit_of_work, deps, retry_alone, out_of_time)


def _apply_together(
    event_ids: list[str], uow: UnitOfWork, deps: Deps, backlog: int = 0
) -> dict[str, int]:
    """One transaction, read as a set: the inbox rows in one statement, the organizations the
    events name locked in one (in id order) with their subscriptions and current licenses in
    one each; each event is then applied in the order it arrived, and the writes go out with
    the commit, one statement per table and kind of write."""
    if deps.tie_break_by_fetch:
        backlog = 0  # a tie's Stripe read comes before the locks: none is taken on
    with uow:
        read = uow.inbox.lock_all(event_ids, lock=False)
    if all(row.state in DONE_STATES for row in read.values()):
        # A redelivery, or its events were taken on by an earlier message: that one, or the
        # next message with work of its own, takes on what is left of the backlog.
        return _already_done(event_ids, read)
    pending = _admit(read, uow, deps)
    with uow:
        # The payloads were read and admitted above: only the rows' states are read again.
        rows = uow.inbox.lock_all(event_ids, payload=False)
        taken = _take_on(uow, deps, backlog, event_ids)
        rows |= {event_id: row for event_id, (row, _) in taken.items()}
        pending |= {event_id: found for event_id, (_, found) in taken.items()}
        admitted = {
            event_id: found
            for event_id, found in pending.items()
            if event_id in rows and rows[event_id].state not in DONE_STATES
        }
        uow.organizations.lock_customers(
            filter(None, (customer_of(a.command) for a in admitted.values()))
        )
        uow.licenses.load_current(org.id for org in uow.organizations.seen)
        applied: list[tuple[InboxRow | None, str]] = []
        marks: list[Mark] = []
        for event_id in sorted([*event_ids, *taken], key=lambda e: _arrival(rows, e)):
            row, found = rows.get(event_id), admitted.pop(event_id, None)
            if row is None:
                log.warning("event not in inbox", extra={"event_id": event_id})
                applied.append((None, "missing"))
            elif found is None:  # done before, or named twice in this message
                applied.append(
                    (None, next((m.state for m in marks if m.event_id == event_id), row.state))
                )
            else:
                state, note = _apply_row(row, found, uow, deps)
                marks.append(Mark(event_id, state, note))
                applied.append((row, state))
        uow.inbox.mark_all(marks, _now())
        uow.commit()
    _all_done(applied, _now())
    return dict(Counter(state for _, state in applied))


def _arrival(rows: dict[str, InboxRow], event_id: str) -> float:
    row = rows.get(event_id)
    return row.id if row is not None else _LAST


def _take_on(
    uow: UnitOfWork, deps: Deps, backlog: int, event_ids: list[str]
) -> dict[str, tuple[InboxRow, Admitted]]:
    """Up to `backlog` stored events never tried yet, locked in this transaction (none that
    another one holds) and admitted without Stripe: one that would need a Stripe read, or
    cannot be read, is left to its own message, which reads Stripe first or records why."""
    taken = {}
    for event_id, row in uow.inbox.claim(backlog, exclude=event_ids).items():
        try:
            found = deps.door.admit_without_reads(row.payload)
        except Exception:  # its own message records why it fails
            continue
        if found is not None:
            taken[event_id] = (row, found)
    return taken


_LAST = float("inf")


def _all_done(applied: list[tuple[InboxRow | None, str]], now: datetime) -> None:
    """Each event's metrics; one log line for the message (a lone event's own line)."""
    done = [(row, state) for row, state in applied if row is not None]
    if len(done) == 1:
        _done(*done[0], now)
        return
    _observe(done, now)
    if done:
        states = Counter(state for _, state in done)
        log.info("events processed", extra={"events": len(done), "states": dict(states)})


def _already_done(event_ids: list[str], read: dict[str, InboxRow]) -> dict[str, int]:
    """A message whose events are all done or missing: their states, no lock taken."""
    for event_id in event_ids:
        if event_id not in read:
            log.warning("event not in inbox", extra={"event_id": event_id})
    return dict(Counter(read[e].state if e in read else "missing" for e in event_ids))


def _apply_one_by_one(
    event_ids: list[str],
    unit_of_work: Callable[[], UnitOfWork],
    deps: Deps,
    retry_alone: Callable[[str], bool],
    out_of_time: tuple[type[BaseException], ...],
) -> dict[str, int]:
    """Each event in its own transaction. One that fails is recorded and handed to
    `retry_alone` (the single-event task, which retries it with backoff until it is applied or
    `dead`); the others go on. If the hand-over fails too, the row is still pending and the
    sweeper sends it again."""
    states: Counter[str] = Counter()
    for event_id in event_ids:
        try:
            state = process_stripe_event(event_id, unit_of_work(), deps)
        except out_of_time:
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


def _observe(done: list[tuple[InboxRow, str]], now: datetime) -> None:
    """The events' metrics: the processed counter written once per type and state, the lags
    of each one applied."""
    for (event_type, state), count in Counter((row.type, state) for row, state in done).items():
        PROCESSED.labels(event_type, state).inc(count)
    for row, state in done:
        if state == "applied":
            EVENT_LAG.observe(max(0.0, now.timestamp() - row.created))
            RECEIPT_LAG.observe(max(0.0, (now - row.received_at).total_seconds()))


def record_failure(event_id: str, uow: UnitOfWork, error: BaseException, final: bool) -> None:
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
