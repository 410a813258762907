"""Changes at renewal: going down is scheduled for the next renewal, never charged or
refunded now.

An owner or admin schedules fewer seats (never below the seats active offline licenses hold
at that moment), annual → monthly, a lower tier, or several of them at once, for one license
type. Stripe keeps the new terms as the next phase of a subscription schedule that starts at
the current period's end (a trial's end, in a trial) and bills exactly them on the renewal
invoice. Going up (more seats, monthly → annual, a higher tier) is an upgrade, paid now; an
upgrade applied while a change is pending cancels the change (`supersede`): it was priced
against terms that no longer hold, and is scheduled again if still wanted.

scheduling → scheduled → applied, or canceled (by a person, by an upgrade, or because the
period ended before Stripe took it), or released (the schedule was released or canceled in
Stripe's dashboard: Stripe bills the old terms).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from domain.catalog import Catalog, CatalogPrice
from domain.commands import Command
from domain.errors import (
    DomainError,
    InvalidTransition,
    NoLicenseBought,
    NothingToChange,
    NotOwnerOrAdmin,
    SubscriptionNotUpgradable,
    SubscriptionPeriodEnded,
)
from domain.events import SubscriptionChanged
from domain.model import Interval, LedgerEntry, Member, Organization, Subscription
from domain.terms import Terms


class NotADowngrade(DomainError):
    """A change at renewal only goes down: fewer seats, annual → monthly, a lower tier.
    Going up is an upgrade, paid now."""

    code = "change_not_downward"


class SeatsBelowOfflineLicenses(DomainError):
    """Active offline licenses hold more seats than the change would leave."""

    code = "seats_below_offline_licenses"


class ChangeAlreadyScheduled(DomainError):
    """This subscription already has a change scheduled for its renewal; cancel it first."""

    code = "change_already_scheduled"


class ScheduledChangeNotFound(DomainError):
    """No such scheduled change for this organization."""

    code = "scheduled_change_not_found"


class ChangeNotCancelable(DomainError):
    """The change was applied or ended already, or its period ended: it can no longer be
    canceled."""

    code = "change_not_cancelable"


class ChangeState(StrEnum):
    SCHEDULING = "scheduling"  # recorded; Stripe's schedule not yet set up
    SCHEDULED = "scheduled"  # Stripe bills the new terms at the renewal
    APPLIED = "applied"
    CANCELED = "canceled"
    RELEASED = "released"  # released or canceled in Stripe's dashboard


C = ChangeState
PENDING = frozenset({C.SCHEDULING, C.SCHEDULED})
TRANSITIONS: dict[ChangeState, frozenset[ChangeState]] = {
    C.SCHEDULING: frozenset({C.SCHEDULED, C.CANCELED, C.RELEASED}),
    C.SCHEDULED: frozenset({C.APPLIED, C.CANCELED, C.RELEASED}),
    C.APPLIED: frozenset(),
    C.CANCELED: frozenset(),
    C.RELEASED: frozenset(),
}


@dataclass(frozen=True)
class PhaseFact:
    """One phase of a Stripe subscription schedule: from `start` to `end` (None: open), one
    price and its quantity."""

    start: int
    end: int | None
    price_id: str
    quantity: int


@dataclass(frozen=True)
class ScheduleFact:
    """A Stripe subscription schedule as seatflow knows it (never its metadata).
    `subscription_id` is the subscription it manages, or the one it released."""

    schedule_id: str
    customer_id: str | None
    subscription_id: str | None
    status: str  # not_started, active, completed, released, canceled
    current_start: int | None
    current_end: int | None
    phases: tuple[PhaseFact, ...]
    ended_at: int | None = None  # when it was released, canceled or completed

    @property
    def live(self) -> bool:
        return self.status in ("not_started", "active")

    def phase_from(self, start: int) -> PhaseFact | None:
        """The phase that starts at `start` (a change's renewal)."""
        return next((p for p in self.phases if p.start == start), None)


@dataclass(frozen=True)
class ScheduleChange(Command):
    """Schedule fewer seats, annual → monthly and/or a lower tier for the next renewal."""

    organization_id: str
    member_id: str
    license_type: str
    seats: int
    interval: str
    tier: str | None = None  # None: the subscription's own tier


@dataclass(frozen=True)
class CancelScheduledChange(Command):
    organization_id: str
    member_id: str
    change_id: str


@dataclass(frozen=True)
class SyncSchedule(Command):
    """Take Stripe's state of a subscription schedule (`subscription_schedule.*`)."""

    schedule: ScheduleFact
    version: int
    event_id: str = ""


@dataclass(frozen=True)
class ScheduleRequest:
    """What Stripe is asked to keep: the subscription's current phase until `effective_at`,
    then `quantity` × `price_id` until `phase_end` (one cycle of the new price), nothing
    prorated. Every request carries a key derived from `change_id`."""

    change_id: str
    subscription_id: str
    effective_at: datetime
    price_id: str
    quantity: int
    phase_end: datetime


@dataclass(frozen=True)
class ScheduledChangeApplied(SubscriptionChanged):
    """The renewal took a scheduled change: the subscription has its new terms."""


@dataclass(eq=False)
class ScheduledChange:
    """One change of one subscription, for its next renewal (its own aggregate, keyed to an
    organization, like an upgrade)."""

    id: str
    organization_id: str
    license_type: str
    stripe_subscription_id: str
    from_seats: int
    from_interval: str
    from_tier: str
    seats: int
    interval: str
    tier: str
    stripe_price_id: str
    currency: str
    next_invoice_amount: int  # minor units: the new price × the new seats, nothing prorated
    effective_at: datetime  # the period's end (a trial's end) when it was scheduled
    state: str
    created_at: datetime
    updated_at: datetime
    requested_by: str
    stripe_schedule_id: str | None = None
    # `created` of the newest schedule event taken: an older one must not undo it.
    stripe_version: int = 0
    cause: str | None = None  # why it is where it is now
    applied_at: datetime | None = None
    # When Stripe confirmed the schedule released (after a cancel, or once applied).
    stripe_released_at: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.state in PENDING

    @property
    def from_terms(self) -> Terms:
        return Terms(self.from_seats, self.from_interval, self.from_tier)

    @property
    def terms(self) -> Terms:
        return Terms(self.seats, self.interval, self.tier)

    @property
    def release_due(self) -> bool:
        """Stripe still holds a schedule that no longer has anything to do."""
        ended = self.state in (C.APPLIED, C.CANCELED)
        return ended and self.stripe_schedule_id is not None and self.stripe_released_at is None

    def move(self, to: ChangeState, now: datetime, cause: str) -> bool:
        """Go to state `to`; False if already there."""
        current = ChangeState(self.state)
        if current is to:
            return False
        if to not in TRANSITIONS[current]:
            raise InvalidTransition(f"change {self.id} cannot go from {current} to {to}")
        self.state, self.updated_at, self.cause = to.value, now, cause[:200]
        return True

    def take_terms(self, seats: int, price: CatalogPrice, now: datetime, cause: str) -> bool:
        """Stripe's next phase says other terms (edited in its dashboard): they are the
        change now; True if anything changed."""
        if (seats, price.stripe_price_id) == (self.seats, self.stripe_price_id):
            return False
        self.seats, self.interval, self.tier = seats, price.interval, price.tier
        self.stripe_price_id, self.currency = price.stripe_price_id, price.currency
        self.next_invoice_amount = price.unit_amount * seats
        self.updated_at, self.cause = now, cause
        return True


def check_change(
    org: Organization,
    member: Member,
    license_type: str,
    seats: int,
    interval: str,
    tier: str | None,
    now: datetime,
    catalog: Catalog,
    *,
    offline_active: int,
    pending: ScheduledChange | None,
) -> tuple[Subscription, CatalogPrice]:
    """Enforce every rule of a change at renewal: the subscription it changes and the price
    Stripe bills from the renewal on. `tier` None keeps the subscription's tier."""
    if not member.can_upgrade:
        raise NotOwnerOrAdmin("only the organization's owner or admins can schedule a change")
    sub = org.subscription_for(license_type)
    if sub is None or sub.seats < 1:
        raise NoLicenseBought(f"no {license_type} license was bought yet")
    if not sub.upgradable:
        raise SubscriptionNotUpgradable(f"the {license_type} subscription is {sub.status}")
    if now >= sub.current_period_end:
        raise SubscriptionPeriodEnded(
            f"the {license_type} period ended {sub.current_period_end:%Y-%m-%d}; "
            "retry once Stripe reports the new one"
        )
    if pending is not None:
        raise ChangeAlreadyScheduled(
            f"the {license_type} subscription already has a change scheduled for "
            f"{pending.effective_at:%Y-%m-%d}; cancel it first"
        )
    tier = tier or sub.tier
    _check_down(sub, seats, interval, tier, catalog)
    price = catalog.price(license_type, interval, tier)
    if seats < offline_active:
        raise SeatsBelowOfflineLicenses(
            f"{offline_active} active offline licenses hold {offline_active} seats of the "
            f"{license_type} subscription: schedule at least {offline_active} seats, or "
            "release offline licenses first"
        )
    return sub, price


def _check_down(sub: Subscription, seats: int, interval: str, tier: str, catalog: Catalog) -> None:
    if seats > sub.seats:
        raise NotADowngrade(
            f"{seats} is more seats than today's {sub.seats}: more seats are an upgrade, paid now"
        )
    if (sub.interval, interval) == (Interval.MONTH, Interval.YEAR):
        raise NotADowngrade("monthly → annual is an upgrade, paid now")
    if interval not in (sub.interval, Interval.MONTH):
        raise NotADowngrade(f"cannot switch from {sub.interval}ly to {interval}ly")
    if tier != sub.tier:
        old, new = catalog.rank(sub.license_type, sub.tier), catalog.rank(sub.license_type, tier)
        if new > old:
            raise NotADowngrade(f"tier {tier!r} is above today's {sub.tier!r}: an upgrade")
    if Terms(seats, interval, tier) == sub.terms:
        raise NothingToChange("the change lowers neither seats, billing cycle nor tier")


def effective_at(sub: Subscription) -> datetime:
    """When a change scheduled now takes effect: the period's end, which in a trial is the
    trial's end."""
    return sub.current_period_end


def apply_change(
    org: Organization,
    change: ScheduledChange,
    *,
    start: datetime | None,
    end: datetime | None,
    version: int,
    now: datetime,
) -> bool:
    """Stripe renewed into the change's phase: the subscription takes the new terms and the
    new period (never an older one), the ledger and the event say so. False when the change
    is not (or no longer) waiting for Stripe's renewal."""
    sub = org.subscription_for(change.license_type)
    if sub is None or change.state != C.SCHEDULED:
        return False
    sub.seats, sub.interval, sub.tier = change.seats, change.interval, change.tier
    sub.stripe_price_id = change.stripe_price_id
    if start and end and end > sub.current_period_end:
        sub.current_period_start, sub.current_period_end = start, end
    sub.stripe_version = max(sub.stripe_version, version)
    change.move(C.APPLIED, now, "Stripe renewed into the new terms")
    change.applied_at = now
    org.ledger.append(
        LedgerEntry(sub.license_type, sub.seats, sub.interval, "scheduled_change", change.id, now)
    )
    org.events.append(
        ScheduledChangeApplied(org.id, sub.license_type, f"scheduled_change:{change.id}", now)
    )
    return True


def supersede(change: ScheduledChange, upgrade_id: str, now: datetime) -> bool:
    """An upgrade applied now: the pending change, priced against the old terms, is
    canceled (the person schedules it again against the new ones if still wanted)."""
    if not change.pending:
        return False
    return change.move(
        C.CANCELED,
        now,
        f"canceled: upgrade {upgrade_id} was applied; schedule the change again if still wanted",
    )


def at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
