"""The Organization aggregate and its subscriptions, one per license type.

An organization is the consistency boundary: every change to its subscriptions goes through
it, one change at a time (the workers lock its row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from domain.catalog import DEFAULT_TIER, Catalog, CatalogPrice
from domain.cycles import cycle_end
from domain.errors import (
    NoLicenseBought,
    NothingToChange,
    NotOwnerOrAdmin,
    OnlyMonthlyToAnnual,
    SeatsCannotDecrease,
    SubscriptionNotUpgradable,
    SubscriptionPeriodEnded,
    TierCannotDecrease,
    UnsupportedInterval,
)
from domain.events import (
    Event,
    SubscriptionRenewed,
    SubscriptionSynced,
    UpgradeApplied,
)
from domain.terms import Terms
from domain.upgrades import Upgrade


class LicenseType(StrEnum):
    NODE_LOCKED = "node_locked"
    FLOATING = "floating"


class SubscriptionStatus(StrEnum):
    """Stripe's subscription statuses that seatflow reasons about."""

    TRIALING = "trialing"
    ACTIVE = "active"
    CANCELED = "canceled"
    INCOMPLETE_EXPIRED = "incomplete_expired"


class Interval(StrEnum):
    MONTH = "month"
    YEAR = "year"

    @classmethod
    def parse(cls, value: str) -> Interval:
        try:
            return cls(value)
        except ValueError:
            raise UnsupportedInterval(f"unsupported billing interval {value!r}") from None


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    # Runs seatflow (the inbox, redrive, reconciliation); never upgrades.
    OPERATOR = "operator"


@dataclass(eq=False)
class Member:
    id: str
    organization_id: str
    email: str
    role: str
    removed_at: datetime | None = None
    # Page sessions carry the version they began under; a bump ends every one of them.
    session_version: int = 0

    def end_sessions(self) -> None:
        """Sign-out, removal and token revocation: no page session started before goes on."""
        self.session_version += 1

    def remove(self, now: datetime) -> None:
        self.removed_at = now
        self.end_sessions()

    @property
    def can_upgrade(self) -> bool:
        return self.removed_at is None and self.role in (Role.OWNER, Role.ADMIN)

    @property
    def can_operate(self) -> bool:
        """The operator pages: the whole inbox and reconciliation, across organizations."""
        return self.removed_at is None and self.role == Role.OPERATOR

    def require_upgrader(self) -> None:
        if not self.can_upgrade:
            raise NotOwnerOrAdmin("only the organization's owner or admins can upgrade")

    def require_offline_manager(self) -> None:
        """Downloading an offline file renews it, so only those who add and release offline
        licenses (the owner and admins) may download one."""
        if not self.can_upgrade:
            raise NotOwnerOrAdmin(
                "only the organization's owner or admins can download offline license files"
            )


@dataclass(eq=False)
class LedgerEntry:
    """One row of the append-only seat ledger: what was true from `recorded_at` on."""

    license_type: str
    seats: int
    interval: str
    cause: str
    reference: str
    recorded_at: datetime
    organization_id: str = ""
    id: int | None = None


UPGRADABLE_STATUSES = frozenset({SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING})


class SyncOutcome(StrEnum):
    APPLIED = "applied"
    SKIPPED_STALE = "skipped_stale"
    # Another Stripe subscription of a license type the organization already holds live.
    SECOND_LIVE = "second_live"
    # A subscription that is not the organization's current one ended: nothing to do.
    NOT_CURRENT = "not_current"


# Stripe statuses of a subscription that will never bill again.
ENDED_STATUSES = frozenset({SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED})


@dataclass(frozen=True)
class SyncResult:
    """What syncing did (why the license must be re-issued, if it must, is the cause of the
    `SubscriptionSynced` event the organization recorded)."""

    outcome: SyncOutcome


@dataclass(frozen=True)
class SubscriptionSnapshot:
    """What Stripe says a subscription looks like, as of `version` (the event's `created`)."""

    stripe_subscription_id: str
    stripe_item_id: str | None
    stripe_price_id: str | None
    license_type: str
    seats: int
    interval: Interval
    status: str
    current_period_start: datetime
    current_period_end: datetime
    version: int
    tier: str = DEFAULT_TIER

    @property
    def terms(self) -> Terms:
        return Terms(self.seats, self.interval.value, self.tier)


@dataclass(eq=False)
class Subscription:
    license_type: str
    seats: int
    interval: str
    status: str
    current_period_start: datetime
    current_period_end: datetime
    stripe_subscription_id: str | None = None
    stripe_item_id: str | None = None
    stripe_price_id: str | None = None
    # `created` of the newest Stripe event applied: older events must not overwrite newer state.
    stripe_version: int = 0
    id: int | None = None
    tier: str = DEFAULT_TIER

    @property
    def in_trial(self) -> bool:
        return self.status == SubscriptionStatus.TRIALING

    @property
    def terms(self) -> Terms:
        """What the customer pays for: asked wherever "unchanged?" is the question."""
        return Terms(self.seats, self.interval, self.tier)

    @property
    def upgradable(self) -> bool:
        """Upgrades need a bought license on a subscription that is active or in trial."""
        return self.seats >= 1 and self.status in UPGRADABLE_STATUSES

    @property
    def offline_allowed(self) -> bool:
        """Only node-locked **and** annual subscriptions produce offline licenses."""
        return offline_allowed(self.license_type, self.interval)

    def is_newer_than(self, snapshot: SubscriptionSnapshot) -> bool:
        return self.stripe_version > snapshot.version

    def take(self, snapshot: SubscriptionSnapshot) -> None:
        """Stripe's values, each written only where it differs (a write costs the mapper)."""
        for name, value in (
            ("license_type", snapshot.license_type),
            ("seats", snapshot.seats),
            ("interval", snapshot.interval.value),
            ("status", snapshot.status),
            ("current_period_start", snapshot.current_period_start),
            ("current_period_end", snapshot.current_period_end),
            ("stripe_subscription_id", snapshot.stripe_subscription_id),
            ("stripe_item_id", snapshot.stripe_item_id),
            ("stripe_price_id", snapshot.stripe_price_id),
            ("stripe_version", snapshot.version),
            ("tier", snapshot.tier),
        ):
            if getattr(self, name) != value:
                setattr(self, name, value)


def offline_allowed(license_type: str, interval: str) -> bool:
    """The rule behind `Subscription.offline_allowed`, for a cycle a license once had."""
    return license_type == LicenseType.NODE_LOCKED and interval == Interval.YEAR


def _license_reason(
    current: Subscription, snapshot: SubscriptionSnapshot, created: bool, changed: bool
) -> str | None:
    if snapshot.status == SubscriptionStatus.CANCELED:
        canceled_before = current.status == SubscriptionStatus.CANCELED
        return None if canceled_before and not created else "canceled"
    if created:
        return "created"
    if current.in_trial and snapshot.status == SubscriptionStatus.ACTIVE:
        return "trial_converted"
    return "stripe_sync" if changed else None


@dataclass(eq=False)
class Organization:
    id: str
    name: str
    stripe_customer_id: str | None = None
    subscriptions: list[Subscription] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    # What happened since the unit of work last collected (not stored).
    events: list[Event] = field(default_factory=list, repr=False)

    def subscription_for(self, license_type: str) -> Subscription | None:
        return next((s for s in self.subscriptions if s.license_type == license_type), None)

    def bought(self, license_type: str) -> Subscription:
        """The subscription of `license_type`, once at least one license of it was bought
        (NoLicenseBought before): what upgrades and licenses need."""
        current = self.subscription_for(license_type)
        if current is None or current.seats < 1:
            raise NoLicenseBought(f"no {license_type} license was bought yet")
        return current

    def subscription_by_stripe_id(self, stripe_subscription_id: str) -> Subscription | None:
        return next(
            (s for s in self.subscriptions if s.stripe_subscription_id == stripe_subscription_id),
            None,
        )

    def sync_subscription(
        self, snapshot: SubscriptionSnapshot, reference: str | None = None
    ) -> SyncResult:
        """Take Stripe's view of one subscription unless we already hold a newer one.

        A change that the license must follow is recorded as `SubscriptionSynced`, its cause
        `<reason>:<reference>` (the event id, or else the snapshot's version). One live
        subscription per license type: another live one is not taken (SECOND_LIVE), and the
        end of one that is not the current one touches nothing (NOT_CURRENT)."""
        current = self.subscription_by_stripe_id(snapshot.stripe_subscription_id)
        if current is None:
            held = self.subscription_for(snapshot.license_type)
            other = _another_subscription(held, snapshot)
            if other is not None:
                return SyncResult(other)
            current = held
        created = current is None
        if current is None:
            current = Subscription(
                license_type=snapshot.license_type,
                seats=snapshot.seats,
                interval=snapshot.interval.value,
                status=snapshot.status,
                current_period_start=snapshot.current_period_start,
                current_period_end=snapshot.current_period_end,
                tier=snapshot.tier,
            )
            self.subscriptions.append(current)
        elif current.is_newer_than(snapshot):
            return SyncResult(SyncOutcome.SKIPPED_STALE)
        changed = current.terms != snapshot.terms
        reason = _license_reason(current, snapshot, created, changed)
        current.take(snapshot)
        if changed or created:
            self._record(current, "stripe_sync", snapshot.stripe_subscription_id, now=None)
        if reason:
            cause = f"{reason}:{reference or snapshot.version}"
            self.events.append(SubscriptionSynced(self.id, current.license_type, cause))
        return SyncResult(SyncOutcome.APPLIED)

    def check_upgrade(
        self,
        member: Member,
        license_type: str,
        seats: int,
        interval: str,
        now: datetime,
        tier: str | None = None,
        catalog: Catalog | None = None,
    ) -> Subscription:
        """Enforce every rule of an upgrade; return the subscription it changes.

        `tier` None keeps the subscription's tier; another tier is ranked by `catalog`."""
        member.require_upgrader()
        current = self.bought(license_type)
        if not current.upgradable:
            raise SubscriptionNotUpgradable(f"the {license_type} subscription is {current.status}")
        if now >= current.current_period_end:
            # Nothing is left of the period to prorate; the new one is Stripe's to report.
            raise SubscriptionPeriodEnded(
                f"the {license_type} period ended {current.current_period_end:%Y-%m-%d}; "
                "retry once Stripe reports the new one"
            )
        if seats < current.seats:
            raise SeatsCannotDecrease(f"the new total ({seats}) is below today's {current.seats}")
        if interval != current.interval and (current.interval, interval) != (
            Interval.MONTH,
            Interval.YEAR,
        ):
            raise OnlyMonthlyToAnnual(f"cannot switch from {current.interval}ly to {interval}ly")
        tier = tier or current.tier
        if tier != current.tier:
            if catalog is None:
                raise TierCannotDecrease(f"no catalog ranks {tier!r} against {current.tier!r}")
            catalog.check_tier_rises(license_type, current.tier, tier)
        if Terms(seats, interval, tier) == current.terms:
            raise NothingToChange("the upgrade changes neither seats, billing cycle nor tier")
        return current

    def apply_upgrade(
        self, upgrade: Upgrade, price: CatalogPrice, version: int, now: datetime
    ) -> Subscription:
        """The payment is confirmed: the subscription changes now, and the ledger says so."""
        current = self.bought(upgrade.license_type)
        current.seats = upgrade.seats
        if upgrade.interval != current.interval:
            current.interval = upgrade.interval
            # The new cycle starts when the current one started; a trial still ends when it
            # ended before, and the new price is billed then.
            if not current.in_trial:
                current.current_period_end = cycle_end(
                    current.current_period_start, upgrade.interval
                )
        current.stripe_price_id = price.stripe_price_id
        current.tier = price.tier
        # Stripe events older than this payment must not undo it.
        current.stripe_version = max(current.stripe_version, version)
        self._record(current, "upgrade", upgrade.id, now=now)
        self.events.append(
            UpgradeApplied(self.id, current.license_type, f"upgrade:{upgrade.id}", now)
        )
        return current

    def renew(
        self, sub: Subscription, start: datetime | None, end: datetime | None, invoice_id: str
    ) -> None:
        """A cycle was paid: the period moves on (never back) and the license follows."""
        if start and end and end > sub.current_period_end:
            sub.current_period_start, sub.current_period_end = start, end
        self.events.append(SubscriptionRenewed(self.id, sub.license_type, f"renewal:{invoice_id}"))

    def collect_events(self) -> list[Event]:
        """Hand over what happened since the last call (the unit of work calls this)."""
        events, self.events = self.events, []
        return events

    def _record(self, sub: Subscription, cause: str, reference: str, now: datetime | None) -> None:
        when = now or datetime.fromtimestamp(sub.stripe_version, UTC)
        self.ledger.append(
            LedgerEntry(sub.license_type, sub.seats, sub.interval, cause, reference, when)
        )


def _another_subscription(
    held: Subscription | None, snapshot: SubscriptionSnapshot
) -> SyncOutcome | None:
    """Why `snapshot`, of another Stripe subscription than the `held` one of its license
    type, is not taken; None if it replaces it (the held one ended, or has no Stripe id)."""
    if held is None or held.stripe_subscription_id is None:
        return None
    if snapshot.status in ENDED_STATUSES:
        return SyncOutcome.NOT_CURRENT
    if held.status in ENDED_STATUSES:
        return None
    return SyncOutcome.SECOND_LIVE
