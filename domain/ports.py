"""Ports: what the domain's handlers need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from domain.admission import Admitted, ListedEvent, ListedSubscription
from domain.catalog import Catalog, CatalogPrice
from domain.discounts import Discount
from domain.licenses import License, LicenseTerms, OfflineActivation
from domain.model import Member, Organization, SubscriptionSnapshot
from domain.payment_methods import InvoiceFact
from domain.promotions import PromotionCode
from domain.renewal import ScheduleFact, ScheduleRequest


class Clock(Protocol):
    def now(self) -> datetime: ...


class OrganizationRepository(Protocol):
    """The aggregates of one unit of work; `seen` are the ones it loaded or added."""

    seen: list[Organization]

    def add(self, organization: Organization) -> None: ...

    def get(self, organization_id: str, *, lock: bool = False) -> Organization | None: ...

    def locked(self, organization_id: str) -> Organization: ...

    def get_by_customer(self, customer_id: str, *, lock: bool = False) -> Organization | None: ...

    def list(self) -> Sequence[Organization]: ...


class CatalogRepository(Protocol):
    def load(self) -> Catalog: ...

    def put(self, price: CatalogPrice) -> None: ...

    def discount(self, code: str, *, lock: bool = False) -> Discount | None: ...

    def add_discount(self, discount: Discount) -> None: ...

    def all_discounts(self) -> list[Discount]: ...

    def remove(self, stripe_price_id: str) -> CatalogPrice | None: ...

    def clear(self) -> int: ...


class MemberRepository(Protocol):
    def add(self, member: Member) -> None: ...

    def get(self, member_id: str) -> Member | None: ...

    def by_token_hash(self, token_hash: str) -> Member | None: ...

    def add_token(self, member_id: str, token_hash: str, now: datetime) -> None: ...


class LicenseRepository(Protocol):
    """Append-only license versions and offline activations."""

    def add(self, item: License | OfflineActivation) -> None: ...

    def supersede_current(
        self, organization_id: str, license_type: str, cause: str
    ) -> tuple[int, str] | None: ...

    def current(self, organization_id: str, license_type: str) -> License | None: ...

    def current_terms(self, organization_id: str, license_type: str) -> LicenseTerms | None:
        """What the current (not revoked) version grants."""
        ...

    def history(self, organization_id: str) -> list[License]: ...

    def get(self, organization_id: str, license_id: str) -> License | None: ...

    def activations(
        self, organization_id: str, license_type: str | None = None, active_only: bool = False
    ) -> list[OfflineActivation]: ...

    def activation(self, organization_id: str, activation_id: str) -> OfflineActivation | None: ...


class UnitOfWork(Protocol):
    """One transaction over the aggregates; tasks asked for are sent only after the commit."""

    @property
    def organizations(self) -> OrganizationRepository: ...

    @property
    def catalog(self) -> CatalogRepository: ...

    @property
    def members(self) -> MemberRepository: ...

    @property
    def licenses(self) -> LicenseRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def enqueue_after_commit(self, task_name: str, args: list[Any]) -> None: ...

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
    # Stripe had already marked it paid (an answer lost before, or an invoice below the
    # minimum charge): its invoice.paid may have come before seatflow knew the invoice.
    already_paid: bool = False


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

    def draft_invoice(
        self,
        *,
        upgrade_id: str,
        customer_id: str,
        currency: str,
        description: str,
        metadata: dict[str, str],
        promotion_code: str | None = None,
    ) -> str:
        """The upgrade's draft invoice, with nothing on it yet: its id. seatflow records it
        before anything can be billed on it. With `promotion_code` (Stripe's id) the invoice
        carries it; `PromotionCodeRefused` if Stripe refuses it."""
        ...

    def finalize_invoice(
        self, *, upgrade_id: str, invoice_id: str, amount: int, currency: str, description: str
    ) -> InvoiceFact:
        """Bill `amount` on the recorded draft (once: only a draft without lines gets it) and
        finalize it (only a draft): the invoice as Stripe then has it, perhaps already paid
        by the customer's balance. With a promotion code, `amount` is before its discount,
        which Stripe takes off; `PromotionCodeRefused` if Stripe refuses it."""
        ...

    def pay_invoice(self, *, upgrade_id: str, invoice_id: str, attempt: int = 1) -> ChargeResult:
        """Ask Stripe to pay the invoice with the customer's default card
        (`PromotionCodeRefused` if Stripe no longer redeems the code the invoice carries)."""
        ...

    def find_promotion_code(self, *, code: str, customer_id: str | None) -> PromotionCode | None:
        """Stripe's promotion code of this text (canonical form) that the customer would
        redeem (an inactive one when no active one exists), or None."""
        ...

    def promotion_code(self, promotion_code_id: str) -> PromotionCode | None:
        """Stripe's promotion code of this id as it is now, or None."""
        ...

    def customer_has_paid(self, customer_id: str) -> bool:
        """Whether Stripe has a successful payment (a paid invoice) of the customer."""
        ...

    def update_subscription(self, change: SubscriptionChange) -> None: ...

    def void_invoice(self, *, upgrade_id: str, invoice_id: str) -> str:
        """Void an unpaid invoice (delete a draft): its status afterwards, `void` or `paid`."""
        ...

    def refund_invoice(self, *, upgrade_id: str, invoice_id: str, amount: int) -> str:
        """Give back what an invoice captured; the refund's id."""
        ...

    def credit_balance(
        self, *, upgrade_id: str, invoice_id: str, customer_id: str, amount: int, currency: str
    ) -> str:
        """Give `amount` back to the customer's credit balance, once: the transaction's id."""
        ...

    def payment_method_setup_url(
        self,
        *,
        customer_id: str,
        organization_id: str,
        return_url: str,
        cancel_url: str,
        portal: bool = False,
    ) -> str: ...

    def set_default_payment_method(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        subscription_ids: list[str],
        version: int,
    ) -> None: ...

    def schedule_change(self, request: ScheduleRequest) -> ScheduleFact:
        """Make (or take) the subscription's schedule and give it the change's phase."""
        ...

    def release_schedule(self, *, change_id: str, schedule_id: str) -> ScheduleFact:
        """Detach the schedule: the subscription keeps the terms it has now."""
        ...


class StripeDoor(Protocol):
    """Everything seatflow reads from Stripe, by webhook or by API, as typed domain values:
    the adapters parse Stripe's JSON, refuse what seatflow cannot represent with a named
    reason, and never hand a dict to a service."""

    def admit(self, payload: str) -> Admitted:
        """The command a stored event's payload asks for, every Stripe read it needs done;
        refused if the event is of another Stripe mode or account, or unrepresentable."""
        ...

    def subscription(self, subscription_id: str, version: int) -> SubscriptionSnapshot:
        """Stripe's current state of a subscription, as a snapshot of `version`."""
        ...

    def invoice(self, invoice_id: str) -> InvoiceFact:
        """Stripe's current state of an invoice."""
        ...

    def schedule(self, schedule_id: str) -> ScheduleFact | None:
        """Stripe's current state of a subscription schedule (None: unrepresentable)."""
        ...

    def subscriptions(
        self, *, customer: str | None, version: int
    ) -> Iterator[list[ListedSubscription]]:
        """Every subscription (of one customer, or all), one page at a time."""
        ...

    def events(
        self, *, created_gte: int | None = None, delivery_success: bool | None = None
    ) -> Iterator[list[ListedEvent]]:
        """Stripe's events (undelivered ones, or those created since), one page at a time."""
        ...

    def catalog_entries(self) -> list[dict[str, Any]]:
        """The catalog entries (seatflow's catalog-file form) of Stripe's active recurring
        prices that name a license type."""
        ...


@dataclass(frozen=True)
class WebhookEndpoint:
    """A webhook endpoint of the Stripe account: where Stripe sends events, and in which API
    version it renders them; its signing secret only in the answer that created it."""

    id: str
    url: str
    api_version: str | None
    secret: str | None = None


class WebhookEndpoints(Protocol):
    """The account's webhook endpoints (`seatflow stripe setup-webhook`)."""

    def webhook_endpoints(self) -> list[WebhookEndpoint]: ...

    def create_webhook_endpoint(
        self, url: str, events: list[str], api_version: str
    ) -> WebhookEndpoint: ...

    def update_webhook_endpoint(
        self, endpoint_id: str, url: str, events: list[str]
    ) -> WebhookEndpoint: ...
