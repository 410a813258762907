"""Stripe's renewal takes a scheduled change, and Stripe's dashboard may edit or end one.

The change applies from whichever of the renewal's events comes first: the schedule entering
the change's phase (`subscription_schedule.updated`), the subscription's new period with the
new terms (`customer.subscription.updated`), or the renewal invoice paid for exactly the new
price and quantity (`invoice.paid`). The others, a duplicate or a late older event, find it
applied and the subscription already so: the subscription changes once, with one ledger
entry and one license version. A schedule whose next phase was edited in the dashboard
makes that phase the change; one released, canceled, or left without the change's phase
ends it (`released`): Stripe bills today's terms. Reconciliation compares each schedule
still expected to renew into a change with Stripe, for the events that never came.

No Stripe call here: what Stripe says was read at the door, or by reconciliation before any
row was locked.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from config.tasks import RELEASE_SCHEDULE
from domain.model import Organization, Subscription, SubscriptionSnapshot
from domain.payment_methods import InvoiceFact
from domain.ports import UnitOfWork
from domain.reconciliation_jobs import Summary
from domain.renewal import (
    ChangeState,
    PhaseFact,
    ScheduledChange,
    ScheduleFact,
    SyncSchedule,
    apply_change,
    at,
)
from services import messagebus
from services.deps import Deps
from services.ownership import NotOurs, Outcome, owner_of_schedule

log = logging.getLogger("seatflow.upgrades")
C = ChangeState
JOB = "scheduled_changes"


def on_subscription(
    uow: UnitOfWork, org: Organization, snapshot: SubscriptionSnapshot, now: datetime
) -> None:
    """Before Stripe's snapshot is taken: a renewal into a pending change applies it (the
    snapshot then finds the subscription so). Terms other than the change's (the phase was
    edited and the event missed) are taken as Stripe billed them; today's terms mean the
    schedule no longer carried the change (released, and the event missed): it ended."""
    sub = org.subscription_by_stripe_id(snapshot.stripe_subscription_id)
    if (
        sub is None
        or sub.is_newer_than(snapshot)
        or snapshot.current_period_end <= sub.current_period_end
    ):
        return  # no renewal: the common case costs no query
    change = _waiting(uow, org, sub, snapshot.current_period_start)
    if change is None:
        return
    if (snapshot.seats, snapshot.stripe_price_id) == (sub.seats, sub.stripe_price_id):
        change.move(C.RELEASED, now, "Stripe renewed into today's terms: the change ended")
        return
    if (snapshot.seats, snapshot.stripe_price_id) != (change.seats, change.stripe_price_id):
        phase = PhaseFact(0, None, snapshot.stripe_price_id or "", snapshot.seats)
        if _take_phase(uow, change, phase, now, "Stripe renewed into other terms") is None:
            return  # a price seatflow cannot tell: Stripe's snapshot is taken as it is
    _apply(
        uow,
        org,
        change,
        snapshot.current_period_start,
        snapshot.current_period_end,
        snapshot.version,
        now,
    )


def on_renewal_invoice(
    uow: UnitOfWork,
    org: Organization,
    sub: Subscription,
    invoice: InvoiceFact,
    version: int,
    now: datetime,
) -> None:
    """Before a paid cycle moves the period on: the renewal invoice of a pending change,
    billing exactly its price and quantity, applies it."""
    if not (invoice.period_start and invoice.period_end):
        return
    start = at(invoice.period_start)
    if start < sub.current_period_end:
        return
    change = _waiting(uow, org, sub, start)
    if change is None:
        return
    if (invoice.line_price_id, invoice.line_quantity) != (change.stripe_price_id, change.seats):
        return  # other terms: the subscription's own event says which
    _apply(uow, org, change, start, at(invoice.period_end), version, now)


def sync_schedule(cmd: SyncSchedule, uow: UnitOfWork, deps: Deps) -> Outcome:
    """`subscription_schedule.*` of a schedule seatflow made for a change."""
    owner = owner_of_schedule(uow, cmd.schedule)
    if isinstance(owner, NotOurs):
        return owner
    org, change = owner
    if cmd.version < change.stripe_version:
        return "skipped_stale"
    take_schedule(uow, org, change, cmd.schedule, cmd.version, deps.clock.now())
    return "applied"


def take_schedule(
    uow: UnitOfWork,
    org: Organization,
    change: ScheduledChange,
    fact: ScheduleFact,
    version: int,
    now: datetime,
) -> bool:
    """Stripe's schedule as it is: the renewal entered the change's phase (applied), the
    phase was edited (the change takes it), or the schedule no longer carries it (released).
    True if the change changed."""
    change.stripe_version = max(change.stripe_version, version)
    if change.state != C.SCHEDULED:
        return False
    renewal = int(change.effective_at.timestamp())
    phase = fact.phase_from(renewal)
    renewed = (fact.current_start or 0) >= renewal or (
        not fact.live and (fact.ended_at or 0) >= renewal
    )
    if renewed and phase is not None:
        _take_phase(uow, change, phase, now, "the renewal's phase was edited in Stripe")
        end = fact.current_end or phase.end
        # Stripe's state as of the renewal at the latest: what happened to the subscription
        # before it (a late event of the month it was scheduled) is older.
        since = max(version, phase.start)
        _apply(uow, org, change, at(phase.start), at(end) if end else None, since, now)
        return True
    if not fact.live or phase is None:
        why = (
            f"the schedule was {fact.status} in Stripe"
            if not fact.live
            else "Stripe's schedule no longer has the change"
        )
        return change.move(C.RELEASED, now, f"{why}: the renewal bills today's terms")
    return bool(_take_phase(uow, change, phase, now, "the renewal's phase was edited in Stripe"))


def _waiting(
    uow: UnitOfWork, org: Organization, sub: Subscription, renewed_at: datetime
) -> ScheduledChange | None:
    """The subscription's change that Stripe's renewal at `renewed_at` takes, if any."""
    uow.flush()  # what earlier events of this transaction changed, visible to the query
    change = uow.changes.pending(org.id, sub.license_type)
    if change is None or change.state != C.SCHEDULED or renewed_at < change.effective_at:
        return None
    return change


def _take_phase(
    uow: UnitOfWork, change: ScheduledChange, phase: PhaseFact, now: datetime, cause: str
) -> bool | None:
    """The phase's terms are the change's (True if they differed); None if the catalog does
    not know its price for this license type."""
    price = uow.catalog.load().by_stripe_price(phase.price_id)
    if price is None or price.license_type != change.license_type:
        return None
    return change.take_terms(phase.quantity, price, now, cause)


def _apply(
    uow: UnitOfWork,
    org: Organization,
    change: ScheduledChange,
    start: datetime | None,
    end: datetime | None,
    version: int,
    now: datetime,
) -> None:
    if apply_change(org, change, start=start, end=end, version=version, now=now):
        uow.enqueue_after_commit(RELEASE_SCHEDULE, [change.id])  # Stripe's is done with it
        log.info("scheduled change applied", extra={"change_id": change.id})


# -- reconciliation ------------------------------------------------------------------------


def _view(change: ScheduledChange) -> dict[str, Any]:
    return {"state": change.state, "seats": change.seats, "price": change.stripe_price_id}


def schedule_drift(uow: UnitOfWork, deps: Deps, summary: Summary, dry_run: bool) -> None:
    """Each schedule Stripe should still renew into a change, read from Stripe (before any
    lock) and taken as the events would have: edited, released or renewed meanwhile."""
    summary.add(summary.checked, JOB, 0)
    with uow:
        waiting = uow.changes.waiting_for_stripe()
    for change_id, org_id, schedule_id in waiting:
        fact = deps.door.schedule(schedule_id)
        summary.add(summary.read, JOB)
        summary.add(summary.checked, JOB)
        if fact is None:
            continue
        now = deps.clock.now()
        with uow:
            org = uow.organizations.locked(org_id)
            change = uow.changes.get(change_id)
            if change is None:
                continue
            uow.changes.refresh(change)
            before = _view(change)
            take_schedule(uow, org, change, fact, int(now.timestamp()), now)
            if _view(change) == before:
                continue
            summary.add(summary.drift, JOB)
            if dry_run:
                uow.rollback()
                continue
            uow.drift.record(
                now,
                kind="stripe_state",
                organization_id=org_id,
                subject=schedule_id,
                cause=f"scheduled change {change_id} repaired from Stripe's schedule",
                before=before,
                after=_view(change),
                repaired=True,
            )
            summary.add(summary.repaired, JOB)
            messagebus.commit(uow, deps)
