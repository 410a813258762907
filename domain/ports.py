"""Ports: what the domain's handlers need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from domain.admission import Admitted, ListedEvent, ListedSubscription
from domain.catalog import Catalog, CatalogPrice
from domain.discounts import Discount
from domain.licenses import License, LicenseTerms, OfflineActivation
from domain.model import Member, Organization, SubscriptionSnapshot
from domain.payment_methods import CardOnFile, InvoiceFact, Receipt
from domain.promotions import PromotionCode
from domain.renewal import ScheduledChange, ScheduleFact, ScheduleRequest
from domain.upgrades import Estimate, Upgrade


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

    def lock_customers(self, customer_ids: Iterable[str]) -> None:
        """Lock the organizations of these Stripe customers at once (a batch of events')."""
        ...


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

    def add_token(self, member_id: str, token_hash: str, now: datetime) -> None: ...

    def valid_token(self, token_hash: str, now: datetime) -> tuple[Member, datetime | None] | None:
        """The member of an unrevoked, unexpired token, and when that token expires."""
        ...

    def add_expiring_token(
        self, member_id: str, token_hash: str, now: datetime, expires_at: datetime | None
    ) -> int: ...

    def revoke_token(self, token_id: int, now: datetime) -> str | None:
        """Revoke a token that is not revoked yet; its member's id, or None."""
        ...

    def of_organization(self, organization_id: str) -> list[Member]: ...

    def tokens(self, organization_id: str) -> list[dict[str, Any]]:
        """An organization's tokens (never their hashes), oldest first."""
        ...


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

    def load_current(self, organization_ids: Iterable[str]) -> None:
        """Read the current licenses of these organizations at once (a batch's)."""
        ...

    def count_released_expired_before(self, cutoff: datetime) -> int: ...

    def delete_released_expired_before(self, cutoff: datetime, limit: int) -> int:
        """Delete up to `limit` released activations whose file expired before `cutoff`."""
        ...


class UpgradeRepository(Protocol):
    """Estimates and upgrades (each its own aggregate, keyed to an organization), and the
    queries of the upgrade saga."""

    def add_estimate(self, estimate: Estimate) -> None: ...

    def estimate(self, organization_id: str, estimate_id: str) -> Estimate | None: ...

    def add(self, upgrade: Upgrade) -> None: ...

    def get(self, upgrade_id: str, *, lock: bool = False) -> Upgrade | None: ...

    def for_organization(self, organization_id: str, upgrade_id: str) -> Upgrade | None: ...

    def by_idempotency_key(self, organization_id: str, key: str) -> Upgrade | None: ...

    def by_invoice(self, invoice_id: str) -> Upgrade | None: ...

    def open_for(self, organization_id: str, license_type: str) -> Upgrade | None: ...

    def unpaid_before(self, cutoff: datetime) -> list[str]:
        """Ids of upgrades created before `cutoff` whose invoice is still unpaid."""
        ...

    def refresh(self, upgrade: Upgrade) -> None:
        """Read the upgrade again (after its organization's lock was granted)."""
        ...

    def stuck_since(self, cutoff: datetime) -> list[tuple[str, str, str]]:
        """(id, invoice id, organization id) of upgrades charging or awaiting payment of an
        invoice, untouched since `cutoff`."""
        ...

    def unpushed_applied(self, organization_id: str, license_type: str) -> str | None:
        """The applied upgrade of this license type that Stripe has not been told about."""
        ...

    def expire_estimates(self, now: datetime) -> int:
        """Open estimates past their expiry become `stale`; how many did."""
        ...

    def failed_with_invoice(
        self, organization_id: str, license_type: str, other_than: str
    ) -> list[tuple[str, str]]:
        """(id, invoice id) of failed upgrades of a subscription whose invoice may be open."""
        ...

    def stuck(self, cutoff: datetime) -> list[tuple[str, str]]:
        """(id, state) of upgrades whose next step is overdue since `cutoff`."""
        ...

    def reserved(self, code: str, other_than: str | None = None) -> int:
        """Redemptions of seatflow's own discount code held by upgrades not yet paid or
        given up."""
        ...


class ScheduledChangeRepository(Protocol):
    """Changes at renewal and the queries that follow them."""

    def add(self, change: ScheduledChange) -> None: ...

    def get(self, change_id: str) -> ScheduledChange | None: ...

    def refresh(self, change: ScheduledChange) -> None:
        """Read the change again (after its organization's lock was granted)."""
        ...

    def for_organization(self, organization_id: str, change_id: str) -> ScheduledChange | None: ...

    def of_organization(self, organization_id: str) -> list[ScheduledChange]:
        """Every change of the organization, newest first."""
        ...

    def pending(self, organization_id: str, license_type: str) -> ScheduledChange | None: ...

    def by_schedule(self, schedule_id: str) -> ScheduledChange | None:
        """The newest change seatflow recorded this schedule for."""
        ...

    def release_due(self, organization_id: str, license_type: str) -> list[str]:
        """Ids of the subscription's ended changes whose schedule Stripe still holds."""
        ...

    def waiting_for_stripe(self) -> list[tuple[str, str, str]]:
        """(id, organization id, schedule id) of changes Stripe holds a schedule for that is
        still expected to renew into them."""
        ...

    def stuck(self, cutoff: datetime) -> list[tuple[str, str]]:
        """(id, state) of changes whose Stripe step is overdue since `cutoff`."""
        ...


@dataclass(frozen=True)
class InboxRow:
    """A stored Stripe event, as the worker reads it (the table is `inbox.table.inbox`)."""

    id: int
    event_id: str
    type: str
    created: int
    payload: str
    state: str
    attempts: int
    last_error: str | None
    received_at: datetime


@dataclass(frozen=True)
class Mark:
    """An event's final state after an attempt, to be written with others (`mark_all`)."""

    event_id: str
    state: str
    error: str | None = None


class InboxRepository(Protocol):
    """The stored Stripe events (states: `inbox.states.InboxState`)."""

    def get(self, event_id: str, *, lock: bool = False) -> InboxRow | None: ...

    def lock_all(
        self,
        event_ids: Sequence[str],
        *,
        lock: bool = True,
        payload: bool = True,
        skip_locked: bool = False,
    ) -> dict[str, InboxRow]:
        """The rows of these events by id (locked unless `lock` is False; payloads left
        empty if `payload` is False; with `skip_locked`, rows another transaction holds
        left out rather than waited for)."""
        ...

    def claim(self, limit: int, exclude: Sequence[str] = ()) -> dict[str, InboxRow]:
        """Up to `limit` stored events never tried yet (`received`, no attempt), the oldest
        first, other than `exclude`, locked (none another transaction holds), by id in the
        order they arrived."""
        ...

    def full_row(self, event_id: str) -> dict[str, Any] | None:
        """Every column of the event's row, as stored."""
        ...

    def state_of(self, event_id: str) -> str | None: ...

    def newest_event_id(self) -> str | None: ...

    def mark(
        self,
        event_id: str,
        state: str,
        now: datetime,
        error: str | None = None,
        attempt: bool = False,
    ) -> None: ...

    def mark_all(self, marks: Sequence[Mark], now: datetime) -> None:
        """`mark` for many events, one attempt each."""
        ...

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store rows built by `inbox.table.inbox_row`."""
        ...

    def known_ids(self, event_ids: Iterable[str]) -> set[str]:
        """Those of `event_ids` already in the inbox."""
        ...

    def newest_created(self) -> int | None:
        """The Stripe `created` time of the newest event stored."""
        ...

    def pending_older_than(self, cutoff: datetime, limit: int) -> list[str]:
        """Events still to apply and untouched since `cutoff`, in the order they arrived."""
        ...

    def requeue(self, event_ids: Sequence[str], now: datetime) -> None:
        """The events were handed to the broker again."""
        ...

    def listing(self, state: str | None, limit: int) -> list[dict[str, Any]]:
        """The newest events first, optionally in one state."""
        ...

    def dead_ids(
        self,
        event_ids: Sequence[str] = (),
        types: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[str]:
        """Dead events, narrowed by id, type and receipt time (`since` <= t < `until`)."""
        ...

    def reset(self, event_ids: Sequence[str], now: datetime) -> None:
        """The events are to be applied again, their last error forgotten."""
        ...

    def purge_dead(self, event_ids: Sequence[str]) -> int:
        """Delete those of `event_ids` that are dead; how many were."""
        ...

    def count_done_before(self, cutoff: datetime) -> int: ...

    def delete_done_before(self, cutoff: datetime, limit: int) -> int:
        """Delete up to `limit` finished events last touched before `cutoff`; how many."""
        ...

    def counts_by_state(self) -> dict[str, int]:
        """Rows in each state, every state present (0 when none)."""
        ...

    def oldest_received(self, states: Iterable[str]) -> datetime | None:
        """When the oldest event in one of `states` was received."""
        ...


@dataclass(frozen=True)
class ComparedSubscription:
    """The columns of a local subscription that reconciliation compares with Stripe's."""

    stripe_subscription_id: str
    organization_id: str
    seats: int
    interval: str
    status: str
    stripe_price_id: str | None
    current_period_end: datetime


class SubscriptionRepository(Protocol):
    """Subscriptions read across organizations (reconciliation, tie-breaking)."""

    def versions(self, stripe_ids: Iterable[str]) -> dict[str, int]:
        """The version (newest Stripe event applied) of each of these subscriptions."""
        ...

    def organizations_of_customers(self, customers: Iterable[str]) -> dict[str, str]:
        """The organization id of each of these Stripe customers seatflow knows."""
        ...

    def live_stripe_ids(self, organization_id: str | None = None) -> dict[str, str]:
        """Stripe id → organization id of every local subscription that has not ended."""
        ...

    def compared_columns(self, stripe_ids: Iterable[str]) -> list[ComparedSubscription]: ...


class DriftRepository(Protocol):
    """Drift records: what reconciliation found and what it repaired."""

    def record(self, now: datetime, **values: Any) -> None:
        """Add a drift record; `before` and `after` are kept as JSON."""
        ...

    def flagged_subjects(self, kind: str, subjects: Iterable[str]) -> set[str]:
        """Which of these subjects already have a flagged record of `kind`."""
        ...

    def rows(self, kind: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """The newest records first, optionally of one kind."""
        ...


@dataclass(frozen=True)
class AppliedEstimate:
    """An applied upgrade, with what it was estimated, charged and paid."""

    id: str
    organization_id: str
    estimate_amount: int
    charged_amount: int | None
    paid_amount: int | None
    currency: str
    computed_at: datetime
    created_at: datetime


class ReconciliationRepository(Protocol):
    def unrecorded_estimate_drift(self) -> list[AppliedEstimate]:
        """Applied upgrades whose estimate drift has not been recorded yet."""
        ...


class PaymentMethodRepository(Protocol):
    """The card on file of each organization."""

    def get(self, organization_id: str) -> CardOnFile | None: ...

    def put(self, found: CardOnFile) -> None: ...


class ReceiptRepository(Protocol):
    def add(self, organization_id: str, receipt: Receipt) -> bool:
        """Keep the receipt once; False if this invoice's was already kept."""
        ...

    def for_upgrade(self, upgrade_id: str) -> Receipt | None: ...

    def for_organization(self, organization_id: str) -> dict[str, Receipt]:
        """Receipts by upgrade id."""
        ...


class UpgradeHistoryRepository(Protocol):
    def upgrades(self, organization_id: str, limit: int = 500) -> list[Upgrade]:
        """An organization's upgrades, newest first (with their transitions)."""
        ...


class DuplicateRow(Exception):
    """A commit was refused by a uniqueness rule: another transaction stored the same thing
    first (the unit of work raises it for whatever its store calls it)."""


class Signer(Protocol):
    """Signs license and activation claims (Ed25519 in `adapters.license_signer`)."""

    def sign(self, claims: dict[str, Any]) -> str: ...

    def file(self, claims: dict[str, Any], signature: str) -> str:
        """The license file: the claims and their signature."""
        ...


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

    @property
    def upgrades(self) -> UpgradeRepository: ...

    @property
    def changes(self) -> ScheduledChangeRepository: ...

    @property
    def inbox(self) -> InboxRepository: ...

    @property
    def subscriptions(self) -> SubscriptionRepository: ...

    @property
    def drift(self) -> DriftRepository: ...

    @property
    def reconciliation(self) -> ReconciliationRepository: ...

    @property
    def payment_methods(self) -> PaymentMethodRepository: ...

    @property
    def receipts(self) -> ReceiptRepository: ...

    @property
    def history(self) -> UpgradeHistoryRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def enqueue_after_commit(self, task_name: str, args: list[Any]) -> None: ...

    def flush(self) -> None:
        """Write what this transaction changed so far, so that its next reads see it."""
        ...

    def commit(self) -> None:
        """Make the transaction's changes durable, then send the tasks asked for;
        `DuplicateRow` if a unique rule refused one of its rows."""
        ...

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

    def pay_invoice(
        self,
        *,
        upgrade_id: str,
        invoice_id: str,
        attempt: int = 1,
        payment_method_id: str | None = None,
    ) -> ChargeResult:
        """Ask Stripe to pay the invoice with `payment_method_id` (the card on file, which
        may not be Stripe's default yet), or else the customer's default card
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

    def admit_without_reads(self, payload: str) -> Admitted | None:
        """What `admit` says, if that needs no Stripe read (a call made under row locks);
        None if it would read Stripe (always, when every event is re-read from Stripe)."""
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
