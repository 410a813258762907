"""The Organization aggregate and its subscriptions, one per license type.

An organization is the consistency boundary: every change to its subscriptions goes through
it, one change at a time (the workers lock its row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.errors import UnsupportedInterval


class Interval(StrEnum):
    MONTH = "month"
    YEAR = "year"

    @classmethod
    def parse(cls, value: str) -> Interval:
        try:
            return cls(value)
        except ValueError:
            raise UnsupportedInterval(f"unsupported billing interval {value!r}") from None


class SyncOutcome(StrEnum):
    APPLIED = "applied"
    SKIPPED_STALE = "skipped_stale"


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

    def is_newer_than(self, snapshot: SubscriptionSnapshot) -> bool:
        return self.stripe_version > snapshot.version

    def take(self, snapshot: SubscriptionSnapshot) -> None:
        self.license_type = snapshot.license_type
        self.seats = snapshot.seats
        self.interval = snapshot.interval.value
        self.status = snapshot.status
        self.current_period_start = snapshot.current_period_start
        self.current_period_end = snapshot.current_period_end
        self.stripe_subscription_id = snapshot.stripe_subscription_id
        self.stripe_item_id = snapshot.stripe_item_id
        self.stripe_price_id = snapshot.stripe_price_id
        self.stripe_version = snapshot.version


@dataclass(eq=False)
class Organization:
    id: str
    name: str
    stripe_customer_id: str | None = None
    subscriptions: list[Subscription] = field(default_factory=list)

    def subscription_for(self, license_type: str) -> Subscription | None:
        return next((s for s in self.subscriptions if s.license_type == license_type), None)

    def subscription_by_stripe_id(self, stripe_subscription_id: str) -> Subscription | None:
        return next(
            (s for s in self.subscriptions if s.stripe_subscription_id == stripe_subscription_id),
            None,
        )

    def sync_subscription(self, snapshot: SubscriptionSnapshot) -> SyncOutcome:
        """Take Stripe's view of one subscription unless we already hold a newer one."""
        current = self.subscription_by_stripe_id(
            snapshot.stripe_subscription_id
        ) or self.subscription_for(snapshot.license_type)
        if current is None:
            current = Subscription(
                license_type=snapshot.license_type,
                seats=snapshot.seats,
                interval=snapshot.interval.value,
                status=snapshot.status,
                current_period_start=snapshot.current_period_start,
                current_period_end=snapshot.current_period_end,
            )
            self.subscriptions.append(current)
        elif current.is_newer_than(snapshot):
            return SyncOutcome.SKIPPED_STALE
        current.take(snapshot)
        return SyncOutcome.APPLIED
