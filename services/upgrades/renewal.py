"""Changes at renewal: schedule, cancel, and the Stripe steps that follow them.

Nothing is charged or refunded: Stripe keeps the change as the next phase of a subscription
schedule (`POST /v1/subscription_schedules` with `from_subscription`, then its phases), and
its renewal invoice bills the new terms. Every handler locks the organization's row first;
Stripe is called only outside a transaction, with keys derived from the change's id, and the
state written before and after each call makes a retried step safe:

- schedule: the change is recorded (`scheduling`) and a task sent after the commit makes
  Stripe's schedule, then records its id (`scheduled`); one canceled meanwhile is released;
- cancel: Stripe's schedule is released first, then the change is `canceled`;
- release: a change that ended (applied, canceled by a person or by an upgrade) has its
  schedule released, once (`stripe_released_at`).
How Stripe's renewal applies a change is in `renewal_sync`.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from config.tasks import RELEASE_SCHEDULE, SCHEDULE_CHANGE
from domain.cycles import cycle_end
from domain.errors import NotOwnerOrAdmin, SubscriptionNotUpgradable, UpgradeAlreadyOpen
from domain.model import Organization
from domain.ports import ChargeRejected, DuplicateRow, UnitOfWork
from domain.renewal import (
    CancelScheduledChange,
    ChangeAlreadyScheduled,
    ChangeNotCancelable,
    ChangeState,
    ScheduleChange,
    ScheduledChange,
    ScheduledChangeNotFound,
    ScheduleFact,
    ScheduleRequest,
    check_change,
    effective_at,
)
from services.deps import Deps
from services.upgrades.steps import member_of

log = logging.getLogger("seatflow.upgrades")
C = ChangeState


def schedule_change(cmd: ScheduleChange, uow: UnitOfWork, deps: Deps) -> ScheduledChange:
    """Record the change for the renewal and send the task that tells Stripe (202)."""
    now = deps.clock.now()
    with uow:
        org = uow.organizations.locked(cmd.organization_id)
        member = member_of(uow, org, cmd.member_id)
        sub, price = check_change(
            org,
            member,
            cmd.license_type,
            cmd.seats,
            cmd.interval,
            cmd.tier,
            now,
            uow.catalog.load(),
            offline_active=len(uow.licenses.activations(org.id, cmd.license_type, True)),
            pending=uow.changes.pending(org.id, cmd.license_type),
        )
        if not sub.stripe_subscription_id:
            raise SubscriptionNotUpgradable(f"the {sub.license_type} subscription is not Stripe's")
        if uow.upgrades.unpushed_applied(org.id, sub.license_type):
            # Stripe's subscription does not have the upgrade's terms yet: its schedule would
            # start from the old ones.
            raise UpgradeAlreadyOpen(
                f"the {sub.license_type} subscription's upgrade is being given to Stripe: "
                "schedule the change in a moment"
            )
        change = ScheduledChange(
            id=f"chg_{secrets.token_hex(10)}",
            organization_id=org.id,
            license_type=sub.license_type,
            stripe_subscription_id=sub.stripe_subscription_id,
            from_seats=sub.seats,
            from_interval=sub.interval,
            from_tier=sub.tier,
            seats=cmd.seats,
            interval=price.interval,
            tier=price.tier,
            stripe_price_id=price.stripe_price_id,
            currency=price.currency,
            next_invoice_amount=price.unit_amount * cmd.seats,
            effective_at=effective_at(sub),
            state=C.SCHEDULING.value,
            created_at=now,
            updated_at=now,
            requested_by=member.email,
            cause=f"scheduled by {member.email}",
        )
        uow.changes.add(change)
        uow.enqueue_after_commit(SCHEDULE_CHANGE, [change.id])
        try:
            uow.commit()
        except DuplicateRow:  # the row lock makes this rare; the unique index makes it safe
            uow.rollback()
            raise ChangeAlreadyScheduled(
                f"the {sub.license_type} subscription already has a change scheduled"
            ) from None
    log.info("change scheduled", extra={"change_id": change.id, "organization_id": org.id})
    return change


def push_change(change_id: str, uow: UnitOfWork, deps: Deps) -> str:
    """The task: Stripe's schedule gets the change's phase; the change's state after."""
    with uow:
        found = uow.changes.get(change_id)
        if found is None or found.state != C.SCHEDULING:
            return found.state if found else "missing"
        request = ScheduleRequest(
            change_id=found.id,
            subscription_id=found.stripe_subscription_id,
            effective_at=found.effective_at,
            price_id=found.stripe_price_id,
            quantity=found.seats,
            phase_end=cycle_end(found.effective_at, found.interval),
        )
    try:
        fact: ScheduleFact | ChargeRejected = deps.gateway.schedule_change(request)
    except ChargeRejected as refused:  # retrying the same request cannot succeed
        fact = refused
    with uow:
        _, change = _locked(uow, found.organization_id, change_id)
        if isinstance(fact, ChargeRejected):
            if change.pending:
                change.move(C.CANCELED, deps.clock.now(), f"Stripe refused the schedule: {fact}")
            log.warning("schedule refused", extra={"change_id": change_id, "error": fact.kind})
        else:
            _took(uow, change, fact, deps.clock.now())
        uow.commit()
    return change.state


def _took(uow: UnitOfWork, change: ScheduledChange, fact: ScheduleFact, now: datetime) -> None:
    """What Stripe's schedule holds now, recorded on the change."""
    phase = fact.phase_from(int(change.effective_at.timestamp()))
    holds = phase is not None and (phase.price_id, phase.quantity) == (
        change.stripe_price_id,
        change.seats,
    )
    if change.state == C.SCHEDULING:
        if holds:
            change.stripe_schedule_id = fact.schedule_id
            change.move(C.SCHEDULED, now, "Stripe bills the new terms at the renewal")
        else:
            change.move(
                C.CANCELED,
                now,
                "Stripe's period does not end on the change's date (it moved on): schedule again",
            )
    elif change.state == C.CANCELED and holds and change.stripe_schedule_id is None:
        # Canceled while Stripe was being told: what it made is released.
        change.stripe_schedule_id = fact.schedule_id
        uow.enqueue_after_commit(RELEASE_SCHEDULE, [change.id])


def cancel_change(cmd: CancelScheduledChange, uow: UnitOfWork, deps: Deps) -> ScheduledChange:
    """Cancel a pending change before its period ends: Stripe's schedule is released first
    (the subscription keeps today's terms), then the change is canceled."""
    now = deps.clock.now()
    with uow:
        org = uow.organizations.locked(cmd.organization_id)
        member = member_of(uow, org, cmd.member_id)
        if not member.can_upgrade:
            raise NotOwnerOrAdmin("only the organization's owner or admins can cancel a change")
        change = _cancelable(uow, org, cmd.change_id, now)
        schedule_id = change.stripe_schedule_id
        if schedule_id is None:  # Stripe is being told: the task releases what it made
            change.move(C.CANCELED, now, f"canceled by {member.email}")
            uow.commit()
            return change
    current = deps.door.schedule(schedule_id)
    renewal_at = int(change.effective_at.timestamp())
    if current is not None and (current.current_start or 0) >= renewal_at:
        raise ChangeNotCancelable("Stripe renewed into the new terms already: the change applies")
    if current is None or current.live:
        deps.gateway.release_schedule(change_id=change.id, schedule_id=schedule_id)
    with uow:
        org = uow.organizations.locked(cmd.organization_id)
        change = _cancelable(uow, org, cmd.change_id, deps.clock.now())
        change.move(C.CANCELED, deps.clock.now(), f"canceled by {member.email}")
        change.stripe_released_at = deps.clock.now()
        uow.commit()
    return change


def _cancelable(
    uow: UnitOfWork, org: Organization, change_id: str, now: datetime
) -> ScheduledChange:
    change = uow.changes.for_organization(org.id, change_id)
    if change is None:
        raise ScheduledChangeNotFound(f"no scheduled change {change_id!r}")
    uow.changes.refresh(change)
    if not change.pending:
        raise ChangeNotCancelable(f"the change is {change.state}: nothing left to cancel")
    if now >= change.effective_at:
        raise ChangeNotCancelable(
            f"the period ended {change.effective_at:%Y-%m-%d}: the change applies"
        )
    return change


def release_change(change_id: str, uow: UnitOfWork, deps: Deps) -> bool:
    """The task after a change ended: Stripe's schedule is released, once; True if Stripe
    was asked. A schedule a newer change took over is left to that change."""
    with uow:
        found = uow.changes.get(change_id)
        if found is None or not found.release_due or found.stripe_schedule_id is None:
            return False
        schedule_id = found.stripe_schedule_id
        newest = uow.changes.by_schedule(schedule_id)
        if newest is not None and newest.id != found.id:
            found.stripe_released_at = deps.clock.now()
            uow.commit()
            return False
    refused: ChargeRejected | None = None
    try:
        deps.gateway.release_schedule(change_id=change_id, schedule_id=schedule_id)
    except ChargeRejected as error:  # for good: a person looks at it, no retry forever
        refused = error
    with uow:
        _, change = _locked(uow, found.organization_id, change_id)
        if change.release_due:
            change.stripe_released_at = deps.clock.now()
        if refused is not None:
            uow.drift.record(
                deps.clock.now(),
                kind="stripe_state",
                organization_id=change.organization_id,
                subject=schedule_id,
                cause=f"Stripe refused to release the schedule of {change_id}: release it by hand",
                flagged=True,
                repaired=False,
            )
        uow.commit()
    return refused is None


def release_superseded(
    organization_id: str, license_type: str, uow: UnitOfWork, deps: Deps
) -> None:
    """Before an upgrade's new terms go to Stripe: the schedule of the change it canceled is
    released first, or Stripe's renewal would put the change's terms back."""
    with uow:
        due = uow.changes.release_due(organization_id, license_type)
    for change_id in due:
        release_change(change_id, uow, deps)


def resume(uow: UnitOfWork, deps: Deps, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Re-send the Stripe steps whose task was lost or failed for good: a change never
    scheduled at Stripe, a schedule not released after its change ended."""
    with uow:
        stuck = uow.changes.stuck(deps.clock.now() - older_than)
        for change_id, state in stuck:
            task = SCHEDULE_CHANGE if state == C.SCHEDULING else RELEASE_SCHEDULE
            uow.enqueue_after_commit(task, [change_id])
        uow.commit()
    return len(stuck)


def changes_of(uow: UnitOfWork, organization_id: str) -> list[ScheduledChange]:
    """Every change of the organization, newest first (pages, API, CLI)."""
    with uow:
        return uow.changes.of_organization(organization_id)


def _locked(
    uow: UnitOfWork, organization_id: str, change_id: str
) -> tuple[Organization, ScheduledChange]:
    org = uow.organizations.locked(organization_id)  # lock first, then read under it
    change = uow.changes.get(change_id)
    assert change is not None
    uow.changes.refresh(change)
    return org, change
