"""Estimates and upgrades: the saga's states and the rules of an upgrade.

requested → charging → awaiting_payment → paid → applied, with requires_action (3-D Secure on
Stripe's hosted page), payment_failed, expired, canceled and refunded. A confirmed payment
(`invoice.paid`) of the upgrade's own invoice applies an upgrade that failed or expired
meanwhile, because the money was taken and the customer must get what they paid for; a
payment for an upgrade that was canceled, or superseded by a later one, is refunded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.catalog import DEFAULT_TIER
from domain.errors import DomainError, InvalidTransition
from domain.terms import Terms


class UpgradeState(StrEnum):
    REQUESTED = "requested"
    CHARGING = "charging"
    AWAITING_PAYMENT = "awaiting_payment"
    REQUIRES_ACTION = "requires_action"
    PAID = "paid"
    APPLIED = "applied"
    PAYMENT_FAILED = "payment_failed"
    EXPIRED = "expired"
    CANCELED = "canceled"
    REFUNDED = "refunded"


S = UpgradeState
# The upgrade's saga is under way: at most one per subscription. In every other state it
# moves again only when a person acts (pays again, cancels) or Stripe reports a payment, so
# a page showing it stops watching.
OPEN_STATES = frozenset({S.REQUESTED, S.CHARGING, S.AWAITING_PAYMENT, S.REQUIRES_ACTION, S.PAID})
# Its invoice is made and not paid: a confirmed payment of it applies the upgrade.
UNPAID_STATES = frozenset({S.AWAITING_PAYMENT, S.REQUIRES_ACTION, S.PAYMENT_FAILED})
# Every state in which nothing was paid yet can be canceled.
CANCELABLE = frozenset(
    {S.REQUESTED, S.CHARGING, S.AWAITING_PAYMENT, S.REQUIRES_ACTION, S.PAYMENT_FAILED}
)
TRANSITIONS: dict[UpgradeState, frozenset[UpgradeState]] = {
    S.REQUESTED: frozenset({S.CHARGING, S.PAID, S.CANCELED, S.EXPIRED}),
    S.CHARGING: frozenset(
        {S.AWAITING_PAYMENT, S.REQUIRES_ACTION, S.PAID, S.PAYMENT_FAILED, S.CANCELED}
    ),
    S.AWAITING_PAYMENT: frozenset(
        {S.PAID, S.PAYMENT_FAILED, S.REQUIRES_ACTION, S.EXPIRED, S.CANCELED}
    ),
    # Paid again (with a new card) while 3-D Secure waits: the same invoice, charged again.
    S.REQUIRES_ACTION: frozenset({S.CHARGING, S.PAID, S.PAYMENT_FAILED, S.EXPIRED, S.CANCELED}),
    # An attempt that failed may still be completed on Stripe's hosted page (3-D Secure).
    S.PAYMENT_FAILED: frozenset({S.CHARGING, S.REQUIRES_ACTION, S.PAID, S.EXPIRED, S.CANCELED}),
    S.EXPIRED: frozenset({S.PAID, S.REFUNDED}),
    # A payment that arrives for a canceled upgrade is given back, never applied.
    S.CANCELED: frozenset({S.REFUNDED}),
    S.PAID: frozenset({S.APPLIED}),
    S.APPLIED: frozenset(),
    S.REFUNDED: frozenset(),
}
# How often the charge is tried when Stripe is unavailable before the upgrade fails: the
# customer waits on the page, so a few seconds, then *Pay again* (the same invoice, by the
# same idempotency keys) is theirs to press.
MAX_CHARGE_ATTEMPTS = 3
# How the reason of a failure that Stripe's unavailability caused begins.
STRIPE_UNAVAILABLE = "Stripe unavailable"
# The kinds of request Stripe refused for good (`ChargeRejected.kind`): seatflow's own
# request or configuration, never the customer's card.
STRIPE_REFUSED_KINDS = frozenset({"authentication", "invalid_request"})


class FailureKind(StrEnum):
    """What a failed payment means for the customer."""

    CARD = "card"  # the card or its bank refused: another card may work
    STRIPE_UNAVAILABLE = "stripe_unavailable"  # Stripe could not be reached: nothing charged
    STRIPE_REFUSED = "stripe_refused"  # Stripe refused seatflow's request: nothing charged
    RULE = "rule"  # a rule refused the upgrade as submitted; its message says which


def _rule_codes(kind: type[DomainError] = DomainError) -> set[str]:
    return {kind.code}.union(*(_rule_codes(k) for k in kind.__subclasses__()))


def failure_kind(reason: str) -> FailureKind:
    """The kind of a failure from its recorded reason (`code: detail` for a broken rule,
    `Stripe unavailable (kind): detail`, `kind: detail` for a refused request, else the
    card's reason as Stripe worded it)."""
    if reason.startswith(STRIPE_UNAVAILABLE):
        return FailureKind.STRIPE_UNAVAILABLE
    prefix = reason.partition(":")[0].strip()
    if prefix in STRIPE_REFUSED_KINDS:
        return FailureKind.STRIPE_REFUSED
    if prefix in _rule_codes() - {DomainError.code}:
        return FailureKind.RULE
    return FailureKind.CARD


def refund_due(upgrade: Upgrade) -> bool:
    """Stripe was paid for an upgrade no longer wanted, and nothing was given back yet."""
    return (
        upgrade.state in (S.CANCELED, S.EXPIRED)
        and upgrade.paid_amount is not None
        and upgrade.refunded_amount is None
    )


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
    # Stripe's id of the promotion code priced (None: no code, or seatflow's own code).
    promotion_code_id: str | None = None
    status: str = "open"  # open, used (submitted), stale (expired unused)
    from_tier: str = DEFAULT_TIER
    tier: str = DEFAULT_TIER

    def is_stale(self, now: datetime) -> bool:
        return self.status == "stale" or now >= self.expires_at


# The longest cause a step of the history keeps.
MAX_CAUSE = 200


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
    # Stripe's promotion code the invoice carries, and what its discount took off the amount
    # charged when it was priced (Stripe takes it off the invoice: see `invoice_amount`).
    promotion_code_id: str | None = None
    discount_amount: int | None = None
    idempotency_key: str | None = None
    charged_amount: int | None = None
    stripe_invoice_id: str | None = None
    failure_reason: str | None = None
    paid_amount: int | None = None
    stripe_synced_at: datetime | None = None
    # Transient Stripe failures so far; the charge chain holds the upgrade until `retry_at`.
    charge_attempts: int = 0
    retry_at: datetime | None = None
    # Stripe's hosted invoice page, where the customer completes 3-D Secure.
    payment_url: str | None = None
    refunded_amount: int | None = None
    history: list[UpgradeTransition] = field(default_factory=list)
    from_tier: str = DEFAULT_TIER
    tier: str = DEFAULT_TIER

    @property
    def is_open(self) -> bool:
        """Its saga is under way (see OPEN_STATES)."""
        return self.state in OPEN_STATES

    @property
    def from_terms(self) -> Terms:
        """The subscription's terms this upgrade was priced against."""
        return Terms(self.from_seats, self.from_interval, self.from_tier)

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
        if len(cause) > MAX_CAUSE:  # e.g. a long Stripe error: its whole text is in the log
            cause = cause[: MAX_CAUSE - 1] + "…"
        self.history.append(UpgradeTransition(current.value, to.value, now, cause))
        self.state = to.value
        self.updated_at = now
        return True

    def record_charge(self, amount: int, discount: int = 0) -> None:
        self.charged_amount, self.discount_amount = amount, discount

    @property
    def invoice_amount(self) -> int | None:
        """The invoice line's amount: what is charged, plus, with a Stripe promotion code,
        its discount, which Stripe takes off the invoice (and counts as a redemption)."""
        if self.charged_amount is None or not self.promotion_code_id:
            return self.charged_amount
        return self.charged_amount + (self.discount_amount or 0)

    @property
    def pay_attempt(self) -> int:
        """Which payment attempt of the same invoice this is (1 for the first charge)."""
        return max(1, sum(1 for t in self.history if t.to_state == S.CHARGING))
