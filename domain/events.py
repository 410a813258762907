"""Events: what the Organization aggregate records as having happened, in the past tense.

The aggregate appends them to `Organization.events`; the unit of work hands them to the
services' message bus before it commits, so what they cause (a new license version) is written
in the same transaction as the change itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Event:
    pass


@dataclass(frozen=True)
class SubscriptionChanged(Event):
    """A subscription's seats, cycle or status changed; `cause` is unique per change."""

    organization_id: str
    license_type: str
    cause: str
    at: datetime | None = None  # None: as of the clock when handled


@dataclass(frozen=True)
class SubscriptionSynced(SubscriptionChanged):
    """Stripe's state of the subscription was taken (created, changed, trial ended, canceled)."""


@dataclass(frozen=True)
class UpgradeApplied(SubscriptionChanged):
    """A paid upgrade changed the subscription."""


@dataclass(frozen=True)
class SubscriptionRenewed(SubscriptionChanged):
    """A paid cycle moved the subscription's period on."""
