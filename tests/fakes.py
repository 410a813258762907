"""Fakes written against the domain's ports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.license_signer import LicenseSigner
from adapters.stripe_door import StripeReads
from adapters.unit_of_work import transaction_open
from domain.catalog import Catalog, CatalogPrice
from domain.discounts import Discount
from domain.errors import OrganizationNotFound
from domain.licenses import License, LicenseStatus, LicenseTerms, OfflineActivation
from domain.model import Member, Organization
from domain.payment_methods import InvoiceFact
from domain.ports import ChargeResult, Clock, SubscriptionChange
from domain.promotions import PromotionCode
from domain.renewal import PhaseFact, ScheduleFact, ScheduleRequest
from inbox.origin import Origin
from services.deps import Deps


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2022, 1, 11, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


# Every call of the billing gateway's port: none may happen inside a database transaction.
GATEWAY_CALLS = frozenset(
    {
        "charge",
        "draft_invoice",
        "finalize_invoice",
        "pay_invoice",
        "update_subscription",
        "void_invoice",
        "refund_invoice",
        "credit_balance",
        "retrieve",
        "list_subscriptions",
        "list_events",
        "list_prices",
        "payment_method_setup_url",
        "set_default_payment_method",
        "find_promotion_code",
        "promotion_code",
        "customer_has_paid",
        "schedule_change",
        "release_schedule",
    }
)
# Calls made while a transaction was open; the suite's autouse fixture fails the test.
CALLS_UNDER_LOCK: list[str] = []


class GuardedGateway:
    """A gateway that notes every Stripe call made while a unit of work of this thread has an
    open transaction (whose row locks a slow Stripe answer would hold)."""

    def __init__(self, inner: Any) -> None:
        object.__setattr__(self, "inner", inner)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.inner, name, value)  # a test tells the fake how to behave

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in GATEWAY_CALLS:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if transaction_open():
                CALLS_UNDER_LOCK.append(name)
            return attr(*args, **kwargs)

        return call


@dataclass
class FakeGateway:
    """Records what would be sent to Stripe; declines when told to."""

    decline: str | None = None
    action_url: str | None = None  # with `decline`: the card needs 3-D Secure
    charges: list[dict[str, Any]] = field(default_factory=list)
    changes: list[SubscriptionChange] = field(default_factory=list)
    voided: list[str] = field(default_factory=list)
    refunds: list[tuple[str, int]] = field(default_factory=list)
    credits: list[tuple[str, int]] = field(default_factory=list)  # (customer, amount)
    void_error: Exception | None = None  # raised by void_invoice when set
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # what Stripe has now
    fetched: list[tuple[str, str]] = field(default_factory=list)
    setups: list[dict[str, Any]] = field(default_factory=list)
    defaults: list[dict[str, Any]] = field(default_factory=list)

    payments: list[tuple[str, int]] = field(default_factory=list)  # (invoice, attempt)
    # Stripe's promotion codes by id; customers who paid before; lookups made.
    promotion_codes: dict[str, PromotionCode] = field(default_factory=dict)
    paid_customers: set[str] = field(default_factory=set)
    lookups: list[str] = field(default_factory=list)
    refuse_code: Exception | None = None  # raised by draft_invoice for a promotion code
    refuse_pay: Exception | None = None  # raised by pay_invoice
    schedules: list[ScheduleRequest] = field(default_factory=list)
    released: list[str] = field(default_factory=list)  # schedule ids
    release_error: Exception | None = None  # raised by release_schedule when set

    def find_promotion_code(self, *, code: str, customer_id: str | None) -> PromotionCode | None:
        self.lookups.append(code)
        found = [p for p in self.promotion_codes.values() if p.code == code]
        mine = [p for p in found if p.customer_id in (customer_id, None)]
        return (mine or found or [None])[0]

    def promotion_code(self, promotion_code_id: str) -> PromotionCode | None:
        return self.promotion_codes.get(promotion_code_id)

    def customer_has_paid(self, customer_id: str) -> bool:
        return customer_id in self.paid_customers

    drafts: dict[str, dict[str, Any]] = field(default_factory=dict)  # invoice id → draft

    def draft_invoice(self, **kwargs: Any) -> str:
        if kwargs.get("promotion_code") and self.refuse_code is not None:
            raise self.refuse_code
        invoice_id = f"in_{kwargs['upgrade_id']}"
        self.drafts.setdefault(invoice_id, kwargs)
        return invoice_id

    def finalize_invoice(
        self, *, upgrade_id: str, invoice_id: str, amount: int, currency: str, description: str
    ) -> InvoiceFact:
        """Bills `amount` once per draft, as Stripe finalizes only a draft, less its
        promotion code's discount."""
        draft = self.drafts[invoice_id]
        if not draft.get("finalized"):
            draft["finalized"] = True
            self.charges.append(
                {
                    **{k: v for k, v in draft.items() if k != "finalized"},
                    "amount": amount,
                    "currency": currency,
                    "description": description,
                }
            )
        code = self.promotion_codes.get(draft.get("promotion_code") or "")
        total = amount - (code.take_off(amount, currency) if code else 0)
        return InvoiceFact(
            invoice_id, draft["customer_id"], "open", total, amount_paid=0, currency=currency
        )

    def pay_invoice(self, *, upgrade_id: str, invoice_id: str, attempt: int = 1) -> ChargeResult:
        self.payments.append((invoice_id, attempt))
        if self.refuse_pay is not None:
            raise self.refuse_pay
        return ChargeResult(
            invoice_id, paid=self.decline is None, failure=self.decline, action_url=self.action_url
        )

    def update_subscription(self, change: SubscriptionChange) -> None:
        self.changes.append(change)

    def void_invoice(self, *, upgrade_id: str, invoice_id: str) -> str:
        if self.void_error is not None:
            raise self.void_error
        self.voided.append(invoice_id)
        return "void"

    def refund_invoice(self, *, upgrade_id: str, invoice_id: str, amount: int) -> str:
        self.refunds.append((invoice_id, amount))
        return f"re_{invoice_id}"

    def credit_balance(self, **kwargs: Any) -> str:
        self.credits.append((kwargs["customer_id"], kwargs["amount"]))
        return f"cbtxn_{kwargs['invoice_id']}"

    def retrieve(self, object_type: str, object_id: str) -> dict[str, Any]:
        self.fetched.append((object_type, object_id))
        return self.objects[object_id]

    def payment_method_setup_url(self, **kwargs: Any) -> str:
        self.setups.append(kwargs)
        kind = "portal" if kwargs.get("portal") else "checkout"
        return f"https://stripe.example/{kind}/{len(self.setups)}"

    def set_default_payment_method(self, **kwargs: Any) -> None:
        self.defaults.append(kwargs)

    def schedule_change(self, request: ScheduleRequest) -> ScheduleFact:
        """Stripe keeps the change as the phase after the current one."""
        self.schedules.append(request)
        renewal = int(request.effective_at.timestamp())
        phases = (
            PhaseFact(renewal - 86400, renewal, "price_current", request.quantity + 1),
            PhaseFact(
                renewal, int(request.phase_end.timestamp()), request.price_id, request.quantity
            ),
        )
        return ScheduleFact(
            f"sub_sched_{request.change_id}", None, request.subscription_id, "active",
            renewal - 86400, renewal, phases,
        )  # fmt: skip

    def release_schedule(self, *, change_id: str, schedule_id: str) -> ScheduleFact:
        if self.release_error is not None:
            raise self.release_error
        self.released.append(schedule_id)
        return ScheduleFact(schedule_id, None, None, "released", None, None, ())


TEST_SIGNER = LicenseSigner(Ed25519PrivateKey.generate())


def deps_on(
    gateway: Any,
    clock: Clock,
    *,
    origin: Origin | None = None,
    verify_by_fetch: bool = False,
) -> Deps:
    """The handlers' dependencies over `gateway` (guarded: no call under a transaction),
    Stripe's objects read through the door over the same gateway."""
    guarded = GuardedGateway(gateway)
    origin = origin or Origin()
    return Deps(
        gateway=guarded,
        door=StripeReads(guarded, origin, verify_by_fetch),
        clock=clock,
        signer=TEST_SIGNER,
        origin=origin,
    )


def with_gateway(deps: Deps, gateway: Any) -> Deps:
    """`deps` with another gateway, its door reading through it."""
    guarded = GuardedGateway(gateway)
    verify = deps.door.verify_by_fetch if isinstance(deps.door, StripeReads) else False
    return replace(deps, gateway=guarded, door=StripeReads(guarded, deps.origin, verify))


def fake_deps(
    clock: FixedClock | None = None,
    gateway: FakeGateway | None = None,
    *,
    origin: Origin | None = None,
    verify_by_fetch: bool = False,
) -> Deps:
    return deps_on(
        gateway or FakeGateway(),
        clock or FixedClock(),
        origin=origin,
        verify_by_fetch=verify_by_fetch,
    )


class FakeOrganizations:
    def __init__(self, organizations: list[Organization]) -> None:
        self._by_id = {org.id: org for org in organizations}
        self.seen: list[Organization] = []

    def _see(self, org: Organization | None) -> Organization | None:
        if org is not None and org not in self.seen:
            self.seen.append(org)
        return org

    def add(self, organization: Organization) -> None:
        self._by_id[organization.id] = organization
        self._see(organization)

    def get(self, organization_id: str, *, lock: bool = False) -> Organization | None:
        return self._see(self._by_id.get(organization_id))

    def locked(self, organization_id: str) -> Organization:
        org = self.get(organization_id, lock=True)
        if org is None:
            raise OrganizationNotFound(f"no organization {organization_id!r}")
        return org

    def get_by_customer(self, customer_id: str, *, lock: bool = False) -> Organization | None:
        found = (o for o in self._by_id.values() if o.stripe_customer_id == customer_id)
        return self._see(next(found, None))

    def list(self) -> Sequence[Organization]:
        return sorted(self._by_id.values(), key=lambda o: o.id)


class FakeCatalog:
    def __init__(self, prices: list[CatalogPrice], discounts: list[Discount] | None = None) -> None:
        self.prices = {(p.license_type, p.interval): p for p in prices}
        self.discounts = {d.code: d for d in discounts or []}

    def load(self) -> Catalog:
        return Catalog(self.prices.values())

    def put(self, price: CatalogPrice) -> None:
        self.prices[(price.license_type, price.interval)] = price

    def discount(self, code: str, *, lock: bool = False) -> Discount | None:
        return self.discounts.get(code)

    def add_discount(self, discount: Discount) -> None:
        self.discounts[discount.code] = discount

    def all_discounts(self) -> list[Discount]:
        return sorted(self.discounts.values(), key=lambda d: d.code)

    def remove(self, stripe_price_id: str) -> CatalogPrice | None:
        for key, price in list(self.prices.items()):
            if price.stripe_price_id == stripe_price_id:
                return self.prices.pop(key)
        return None

    def clear(self) -> int:
        count = len(self.prices)
        self.prices.clear()
        return count


class FakeMembers:
    def __init__(self, members: list[Member]) -> None:
        self.by_id = {m.id: m for m in members}
        self.tokens: dict[str, str] = {}

    def add(self, member: Member) -> None:
        self.by_id[member.id] = member

    def get(self, member_id: str) -> Member | None:
        return self.by_id.get(member_id)

    def by_token_hash(self, token_hash: str) -> Member | None:
        member_id = self.tokens.get(token_hash)
        return self.by_id.get(member_id) if member_id else None

    def add_token(self, member_id: str, token_hash: str, now: datetime) -> None:
        self.tokens[token_hash] = member_id


class FakeLicenses:
    """Licenses in a list, with the same supersede rule as the table's partial index."""

    def __init__(self) -> None:
        self.items: list[License] = []
        self.offline: list[OfflineActivation] = []

    def add(self, item: License | OfflineActivation) -> None:
        (self.items if isinstance(item, License) else self.offline).append(item)

    def _of(self, organization_id: str, license_type: str) -> list[License]:
        return [
            x
            for x in self.items
            if (x.organization_id, x.license_type) == (organization_id, license_type)
        ]

    def supersede_current(
        self, organization_id: str, license_type: str, cause: str
    ) -> tuple[int, str] | None:
        for item in self._of(organization_id, license_type):
            if item.status == LicenseStatus.CURRENT and item.cause != cause:
                item.status = LicenseStatus.SUPERSEDED.value
                return item.version, item.interval
        return None

    def current(self, organization_id: str, license_type: str) -> License | None:
        return max(self._of(organization_id, license_type), key=lambda x: x.version, default=None)

    def current_terms(self, organization_id: str, license_type: str) -> LicenseTerms | None:
        found = self.current(organization_id, license_type)
        return found.terms if found and found.status == LicenseStatus.CURRENT else None

    def history(self, organization_id: str) -> list[License]:
        return [x for x in self.items if x.organization_id == organization_id]

    def get(self, organization_id: str, license_id: str) -> License | None:
        return next((x for x in self.history(organization_id) if x.id == license_id), None)

    def activations(
        self, organization_id: str, license_type: str | None = None, active_only: bool = False
    ) -> list[OfflineActivation]:
        return [
            a
            for a in self.offline
            if a.organization_id == organization_id
            and (license_type is None or a.license_type == license_type)
            and (a.active or not active_only)
        ]

    def activation(self, organization_id: str, activation_id: str) -> OfflineActivation | None:
        found = (a for a in self.activations(organization_id) if a.id == activation_id)
        return next(found, None)


class FakeUnitOfWork:
    """The `domain.ports.UnitOfWork` in memory: commits are counted, tasks recorded, and
    like the real one it refuses to commit while an aggregate holds unhandled events."""

    def __init__(
        self,
        organizations: list[Organization] | None = None,
        prices: list[CatalogPrice] | None = None,
        members: list[Member] | None = None,
    ) -> None:
        self.organizations = FakeOrganizations(organizations or [])
        self.catalog = FakeCatalog(prices or [])
        self.members = FakeMembers(members or [])
        self.licenses = FakeLicenses()
        self.committed = 0
        self.sent: list[tuple[str, list[Any]]] = []
        self._pending: list[tuple[str, list[Any]]] = []

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pending.clear()

    def enqueue_after_commit(self, task_name: str, args: list[Any]) -> None:
        self._pending.append((task_name, args))

    def commit(self) -> None:
        if any(org.events for org in self.organizations.seen):
            raise AssertionError("commit with unhandled events")
        self.committed += 1
        self.sent.extend(self._pending)
        self._pending.clear()

    def rollback(self) -> None:
        self._pending.clear()


def open_invoice(gateway: Any, **invoice: Any) -> str:
    """The charge step's first Stripe calls: the draft made (and recorded), billed and
    finalized; its id."""
    amount = invoice.pop("amount")
    invoice_id: str = gateway.draft_invoice(**invoice)
    gateway.finalize_invoice(
        upgrade_id=invoice["upgrade_id"],
        invoice_id=invoice_id,
        amount=amount,
        currency=invoice["currency"],
        description=invoice["description"],
    )
    return invoice_id


def open_and_pay(gateway: Any, *, attempt: int = 1, **invoice: Any) -> ChargeResult:
    """The charge step's Stripe calls: the invoice opened, then paid."""
    invoice_id = open_invoice(gateway, **invoice)
    return gateway.pay_invoice(  # type: ignore[no-any-return]
        upgrade_id=invoice["upgrade_id"], invoice_id=invoice_id, attempt=attempt
    )
