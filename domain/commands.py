"""Commands: orders to the domain, frozen dataclasses named in the imperative."""

from __future__ import annotations

from dataclasses import dataclass

from domain.model import SubscriptionSnapshot


@dataclass(frozen=True)
class Command:
    pass


@dataclass(frozen=True)
class SyncSubscription(Command):
    """Take Stripe's state of a subscription (created, updated or deleted)."""

    snapshot: SubscriptionSnapshot
    stripe_customer_id: str | None
    organization_id: str | None
