"""Commands: orders to the domain, frozen dataclasses named in the imperative."""

from __future__ import annotations

from dataclasses import dataclass

from domain.model import SubscriptionSnapshot
from domain.payment_methods import Card, InvoiceFact


@dataclass(frozen=True)
class Command:
    pass


@dataclass(frozen=True)
class SyncSubscription(Command):
    """Take Stripe's state of a subscription (created, updated or deleted)."""

    snapshot: SubscriptionSnapshot
    stripe_customer_id: str | None
    event_id: str = ""


@dataclass(frozen=True)
class RequestEstimate(Command):
    organization_id: str
    member_id: str
    license_type: str
    seats: int
    interval: str
    discount_code: str | None = None
    tier: str | None = None  # None: the subscription's own tier


@dataclass(frozen=True)
class SubmitUpgrade(Command):
    organization_id: str
    member_id: str
    estimate_id: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class CancelUpgrade(Command):
    organization_id: str
    member_id: str
    upgrade_id: str


@dataclass(frozen=True)
class RetryPayment(Command):
    """Pay a failed upgrade's invoice again (after the card was fixed)."""

    organization_id: str
    member_id: str
    upgrade_id: str


@dataclass(frozen=True)
class ConfirmInvoicePaid(Command):
    """Stripe confirmed the payment of an invoice (`invoice.paid`)."""

    invoice: InvoiceFact
    version: int


@dataclass(frozen=True)
class RecordPaymentFailed(Command):
    invoice: InvoiceFact
    reason: str


@dataclass(frozen=True)
class AdoptPaymentMethod(Command):
    """Stripe says a customer has a new card (a setup succeeded, a card was attached, or the
    customer's default changed): make it the default of the customer and its subscriptions.

    `payment_method_id` is None when only the setup intent (`setup_intent_id`) is known.
    `by_seatflow`: the event answers seatflow's own request to make that card the default
    (its idempotency key), not a choice the customer made.
    """

    stripe_customer_id: str
    payment_method_id: str | None
    version: int
    event_id: str = ""
    setup_intent_id: str | None = None
    card: Card | None = None
    by_seatflow: bool = False


@dataclass(frozen=True)
class RecordPaymentActionRequired(Command):
    """The card needs 3-D Secure: the customer pays on Stripe's hosted invoice page."""

    invoice: InvoiceFact
