"""Ports: what the domain's handlers need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.model import Organization


class Clock(Protocol):
    def now(self) -> datetime: ...


class OrganizationRepository(Protocol):
    def add(self, organization: Organization) -> None: ...

    def get(self, organization_id: str, *, lock: bool = False) -> Organization | None: ...

    def get_by_customer(self, customer_id: str, *, lock: bool = False) -> Organization | None: ...


class UnitOfWork(Protocol):
    organizations: OrganizationRepository

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


@dataclass(frozen=True)
class ChargeResult:
    """What Stripe answered when asked to charge an upgrade's invoice.

    `action_url` is set when the card needs 3-D Secure: the customer completes the payment
    on Stripe's hosted invoice page."""

    invoice_id: str
    paid: bool
    failure: str | None = None
    action_url: str | None = None
    amount_paid: int = 0


class ChargeRejected(Exception):
    """Stripe refused the request for good (invalid request, authentication, permission):
    retrying the same request cannot succeed. `kind` names the class of error."""

    def __init__(self, kind: str, message: str, invoice_id: str | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.invoice_id = kind, message, invoice_id


class ChargeUnavailable(Exception):
    """A transient Stripe failure (network, rate limit, server error): a later try may work."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


@dataclass(frozen=True)
class SubscriptionChange:
    """The change to push to the Stripe subscription once an upgrade was paid and applied."""

    upgrade_id: str
    subscription_id: str
    item_id: str
    price_id: str
    quantity: int
    cycle_start: datetime
    # Set when the billing interval changed: the new cycle, already paid for, ends here.
    prepaid_until: datetime | None = None


class BillingGateway(Protocol):
    """The only way seatflow talks to Stripe. Every write carries an idempotency key
    derived from the upgrade id and the step, so a retried task never charges twice."""

    def charge(
        self,
        *,
        upgrade_id: str,
        customer_id: str,
        amount: int,
        currency: str,
        description: str,
        metadata: dict[str, str],
        attempt: int = 1,
    ) -> ChargeResult: ...

    def update_subscription(self, change: SubscriptionChange) -> None: ...

    def void_invoice(self, *, upgrade_id: str, invoice_id: str) -> str:
        """Void an unpaid invoice: its status afterwards, `void` or `paid`."""
        ...

    def refund_invoice(self, *, upgrade_id: str, invoice_id: str, amount: int) -> str:
        """Give back what an invoice captured; the refund's id."""
        ...

    def retrieve(self, object_type: str, object_id: str) -> dict[str, Any]: ...

    def list_subscriptions(
        self, *, customer: str | None = None, page_size: int = 100
    ) -> Iterator[list[dict[str, Any]]]: ...

    def list_events(
        self,
        *,
        created_gte: int | None = None,
        delivery_success: bool | None = None,
        page_size: int = 100,
    ) -> Iterator[list[dict[str, Any]]]: ...
