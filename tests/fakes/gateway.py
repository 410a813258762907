"""The billing gateway in memory: what would be sent to Stripe, recorded; what Stripe
answers, told by the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from adapters.unit_of_work import transaction_open
from domain.payment_methods import InvoiceFact
from domain.ports import ChargeResult, SubscriptionChange
from domain.promotions import PromotionCode
from domain.renewal import PhaseFact, ScheduleFact, ScheduleRequest

# Whether a fake unit of work of this test holds a transaction open (tests.fakes.unit_of_work
# sets it): a Stripe call then is as wrong as under a real one.
FAKE_TRANSACTION_OPEN: list[Callable[[], bool]] = []


def _in_transaction() -> bool:
    return transaction_open() or any(is_open() for is_open in FAKE_TRANSACTION_OPEN)


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
            if _in_transaction():
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
    paid_with: list[str | None] = field(default_factory=list)  # the card named, if any
    # Stripe's promotion codes by id; customers who paid before; lookups made.
    promotion_codes: dict[str, PromotionCode] = field(default_factory=dict)
    paid_customers: set[str] = field(default_factory=set)
    lookups: list[str] = field(default_factory=list)
    refuse_code: Exception | None = None  # raised by draft_invoice for a promotion code
    refuse_pay: Exception | None = None  # raised by pay_invoice
    # What Stripe lists: subscriptions (in `objects`), events, prices; pages of `page_size`.
    events: list[dict[str, Any]] = field(default_factory=list)
    prices: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[ScheduleRequest] = field(default_factory=list)
    released: list[str] = field(default_factory=list)  # schedule ids
    release_error: Exception | None = None  # raised by release_schedule when set

    def find_promotion_code(self, *, code: str, customer_id: str | None) -> PromotionCode | None:
        self.lookups.append(code)
        found = [p for p in self.promotion_codes.values() if p.code == code]
        mine = [p for p in found if p.customer_id in (customer_id, None)]
        return next(iter(mine or found), None)

    def promotion_code(self, promotion_code_id: str) -> PromotionCode | None:
        return self.promotion_codes.get(promotion_code_id)

    def customer_has_paid(self, customer_id: str) -> bool:
        return customer_id in self.paid_customers

    drafts: dict[str, dict[str, Any]] = field(default_factory=dict)  # invoice id → draft

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
        if promotion_code and self.refuse_code is not None:
            raise self.refuse_code
        invoice_id = f"in_{upgrade_id}"
        draft = {
            "upgrade_id": upgrade_id,
            "customer_id": customer_id,
            "currency": currency,
            "description": description,
            "metadata": metadata,
        }
        if promotion_code is not None:
            draft["promotion_code"] = promotion_code
        self.drafts.setdefault(invoice_id, draft)
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

    def pay_invoice(
        self,
        *,
        upgrade_id: str,
        invoice_id: str,
        attempt: int = 1,
        payment_method_id: str | None = None,
    ) -> ChargeResult:
        self.payments.append((invoice_id, attempt))
        self.paid_with.append(payment_method_id)
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

    def credit_balance(
        self, *, upgrade_id: str, invoice_id: str, customer_id: str, amount: int, currency: str
    ) -> str:
        self.credits.append((customer_id, amount))
        return f"cbtxn_{invoice_id}"

    def retrieve(self, object_type: str, object_id: str) -> dict[str, Any]:
        self.fetched.append((object_type, object_id))
        return self.objects[object_id]

    def list_subscriptions(
        self, *, customer: str | None = None, page_size: int = 100
    ) -> Iterator[list[dict[str, Any]]]:
        found = [
            o
            for o in self.objects.values()
            if o.get("object") == "subscription" and customer in (None, o.get("customer"))
        ]
        yield from _pages(found, page_size)

    def list_events(
        self,
        *,
        created_gte: int | None = None,
        delivery_success: bool | None = None,
        page_size: int = 100,
    ) -> Iterator[list[dict[str, Any]]]:
        """Newest first, as Stripe lists them; `delivery_success=False`: those whose
        delivery failed (an event with `"delivered": False`)."""
        found = [
            e
            for e in sorted(self.events, key=lambda e: -int(e["created"]))
            if (created_gte is None or int(e["created"]) >= created_gte)
            and (delivery_success is None or e.get("delivered", True) == delivery_success)
        ]
        yield from _pages(found, page_size)

    def list_prices(self, *, page_size: int = 100) -> Iterator[list[dict[str, Any]]]:
        yield from _pages(self.prices, page_size)

    def payment_method_setup_url(
        self,
        *,
        customer_id: str,
        organization_id: str,
        return_url: str,
        cancel_url: str,
        portal: bool = False,
    ) -> str:
        self.setups.append(
            {
                "customer_id": customer_id,
                "organization_id": organization_id,
                "return_url": return_url,
                "cancel_url": cancel_url,
                "portal": portal,
            }
        )
        kind = "portal" if portal else "checkout"
        return f"https://stripe.example/{kind}/{len(self.setups)}"

    def set_default_payment_method(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        subscription_ids: list[str],
        version: int,
    ) -> None:
        self.defaults.append(
            {
                "customer_id": customer_id,
                "payment_method_id": payment_method_id,
                "subscription_ids": subscription_ids,
                "version": version,
            }
        )

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


def _pages(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
