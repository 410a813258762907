"""Estimates and upgrades: the saga's states and the rules of an upgrade.

requested → charging → awaiting_payment → paid → applied, with payment_failed, expired and
canceled. A confirmed payment (`invoice.paid`) is the truth: it moves any unfinished upgrade
to `paid`, even one that had failed, expired or been canceled meanwhile, because the money was
taken and the customer must get what they paid for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.errors import InvalidTransition


class UpgradeState(StrEnum):
    REQUESTED = "requested"
    CHARGING = "charging"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    APPLIED = "applied"
    PAYMENT_FAILED = "payment_failed"
    EXPIRED = "expired"
    CANCELED = "canceled"


S = UpgradeState
OPEN_STATES = frozenset({S.REQUESTED, S.CHARGING, S.AWAITING_PAYMENT, S.PAID})
CANCELABLE = frozenset({S.REQUESTED, S.AWAITING_PAYMENT})
TRANSITIONS: dict[UpgradeState, frozenset[UpgradeState]] = {
    S.REQUESTED: frozenset({S.CHARGING, S.PAID, S.CANCELED, S.EXPIRED}),
    S.CHARGING: frozenset({S.AWAITING_PAYMENT, S.PAID, S.PAYMENT_FAILED}),
    S.AWAITING_PAYMENT: frozenset({S.PAID, S.PAYMENT_FAILED, S.EXPIRED, S.CANCELED}),
    S.PAYMENT_FAILED: frozenset({S.PAID, S.EXPIRED}),
    S.EXPIRED: frozenset({S.PAID}),
    S.CANCELED: frozenset({S.PAID}),
    S.PAID: frozenset({S.APPLIED}),
    S.APPLIED: frozenset(),
}


@dataclass(eq=False)
class Estimate:
    """A best-effort quote, as of `computed_at`; the charge is recomputed at submission."""

    id: str
    organization_id: str
    license_type: str
    from_seats: int
    from_interval: str
    seats: int
    interval: str
    currency: str
    amount: int
    before_discount: int
    discount_amount: int
    old_term: int
    new_term: int
    old_unused_minutes: int
    old_total_minutes: int
    new_unused_minutes: int
    new_total_minutes: int
    cycle_start: datetime
    current_cycle_end: datetime
    new_cycle_end: datetime
    next_invoice_at: datetime
    next_invoice_amount: int
    trial: bool
    computed_at: datetime
    expires_at: datetime
    discount_code: str | None = None
    status: str = "open"  # open, used (submitted), stale (expired unused)

    def is_stale(self, now: datetime) -> bool:
        return self.status == "stale" or now >= self.expires_at


@dataclass(eq=False)
class UpgradeTransition:
    from_state: str | None
    to_state: str
    at: datetime
    cause: str
    id: int | None = None


@dataclass(eq=False)
class Upgrade:
    id: str
    organization_id: str
    license_type: str
    estimate_id: str
    from_seats: int
    from_interval: str
    seats: int
    interval: str
    currency: str
    estimate_amount: int
    state: str
    created_at: datetime
    updated_at: datetime
    discount_code: str | None = None
    idempotency_key: str | None = None
    charged_amount: int | None = None
    stripe_invoice_id: str | None = None
    failure_reason: str | None = None
    paid_amount: int | None = None
    stripe_synced_at: datetime | None = None
    history: list[UpgradeTransition] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def drift(self) -> int | None:
        """Estimate minus what was charged (positive: the customer paid less than shown)."""
        return None if self.charged_amount is None else self.estimate_amount - self.charged_amount

    def move(self, to: UpgradeState, now: datetime, cause: str) -> bool:
        """Go to state `to`; False if already there (a repeated cause is a no-op)."""
        current = UpgradeState(self.state)
        if current is to:
            return False
        if to not in TRANSITIONS[current]:
            raise InvalidTransition(f"upgrade {self.id} cannot go from {current} to {to}")
        self.history.append(UpgradeTransition(current.value, to.value, now, cause))
        self.state = to.value
        self.updated_at = now
        return True

    def record_charge(self, amount: int) -> None:
        self.charged_amount = amount
