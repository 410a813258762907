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
    event_id: str = ""


@dataclass(frozen=True)
class RequestEstimate(Command):
    organization_id: str
    member_id: str
    license_type: str
    seats: int
    interval: str
    discount_code: str | None = None


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

    invoice_id: str
    upgrade_id: str | None
    amount_paid: int
    currency: str
    version: int
    # For a renewal (billing_reason `subscription_cycle`): which subscription, which period.
    subscription_id: str | None = None
    billing_reason: str | None = None
    stripe_customer_id: str | None = None
    period_start: int | None = None
    period_end: int | None = None
    livemode: bool = False


@dataclass(frozen=True)
class RecordPaymentFailed(Command):
    invoice_id: str
    upgrade_id: str | None
    reason: str


@dataclass(frozen=True)
class RecordPaymentActionRequired(Command):
    """The card needs 3-D Secure: the customer pays on Stripe's hosted invoice page."""

    invoice_id: str
    upgrade_id: str | None
    hosted_invoice_url: str | None
