"""The one gateway that talks to Stripe (with adapters/stripe_setup.py and
adapters/stripe_errors.py, the only code that imports `stripe`).

Charging an upgrade's surcharge: Stripe's own proration is not used, because the product
documents define the amount (calendar cycles, whole minutes, half-up rounding) and Stripe
would compute another. Instead a one-off invoice carries exactly the amount seatflow computed:

1. `POST /v1/invoices` for the customer, `pending_invoice_items_behavior=exclude` (so no
   unrelated pending item rides along), `auto_advance=false`, and with a Stripe promotion
   code `discounts[0][promotion_code]=promo_…`: a draft, whose id seatflow records before
   anything is billed on it;
2. `POST /v1/invoiceitems` with `invoice=` that draft and the exact amount (with a
   promotion code, the amount before it: Stripe takes the discount off the invoice and
   counts the redemption when it is paid), unless the draft already has a line (a retry
   after Stripe forgot the key adds none twice);
3. `POST /v1/invoices/{id}/finalize` (only a draft); seatflow checks the total it bills;
4. `POST /v1/invoices/{id}/pay` with `off_session=true` (the default payment method).

After `invoice.paid`, the subscription is changed without a second charge:
`POST /v1/subscriptions/{id}` with the new price and quantity and
`proration_behavior=none`. A seat-only change keeps the cycle, so the next invoice is the new
full price at the current cycle's end. A monthly → annual switch would make Stripe reset the
billing cycle and invoice the full year at once; `trial_end` set to the end of the new cycle
(cycle start + 1 year, already paid by the surcharge) prevents that, and Stripe's next
invoice is the full yearly price on that date (2023-01-01 in the documents' example). The
metadata `seatflow_prepaid_until` tells seatflow's event mapping that this is a paid period,
not a trial.

Every write carries the idempotency key `seatflow-upgrade-{upgrade_id}-{step}`, so a retried
task replays Stripe's stored answer instead of charging again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol

import stripe

from adapters.schedule_parsing import schedule_fact
from adapters.stripe_errors import ACTION_CODES
from adapters.stripe_errors import reason as _reason
from adapters.stripe_errors import translate_errors as _translate_errors
from adapters.stripe_parsing import CYCLE_START, PREPAID_UNTIL, invoice_fact
from adapters.stripe_promotions import StripePromotions, promotion_refusal, promotion_refusals
from adapters.stripe_setup import StripeSetup
from config.events import STRIPE_API_VERSION
from domain.payment_methods import InvoiceFact
from domain.ports import ChargeRejected, ChargeResult, SubscriptionChange
from domain.renewal import ScheduleFact, ScheduleRequest

# Seconds to connect, and to wait for an answer, in one try of one request.
TIMEOUT = (5.0, 15.0)


def idempotency_key(upgrade_id: str, step: str) -> str:
    return f"seatflow-upgrade-{upgrade_id}-{step}"


def change_key(change_id: str, step: str) -> str:
    """A change at renewal's requests: each step once, whatever retries it."""
    return f"seatflow-change-{change_id}-{step}"


class Limiter(Protocol):
    def acquire(self) -> None: ...


class RateLimiter:
    """A token bucket: at most `rate` calls per second on average, short bursts allowed."""

    def __init__(self, rate: float, burst: int = 5) -> None:
        self.rate, self.capacity = rate, float(burst)
        self.tokens, self.stamp = float(burst), time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                time.sleep((1 - self.tokens) / self.rate)


class StripeGateway(StripeSetup, StripePromotions):
    def __init__(
        self,
        api_key: str,
        api_base: str = "",
        max_network_retries: int = 2,
        read_rate: float = 20.0,
        reads: Limiter | None = None,
        timeout: tuple[float, float] = TIMEOUT,
    ) -> None:
        addresses: Any = {"api": api_base} if api_base else None
        # The SDK retries connection errors, 409 lock timeouts and 429s with backoff. Each
        # try gives up after TIMEOUT (the SDK's own is 80 s a try): a customer waits on the
        # page for the charge, and a Stripe that does not answer is retried by the task.
        # Every request names the version the webhook endpoints render events in, not the
        # SDK's default: what seatflow reads back has the shapes of what it is sent.
        self.client = stripe.StripeClient(
            api_key,
            base_addresses=addresses,
            max_network_retries=max_network_retries,
            stripe_version=STRIPE_API_VERSION,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
        # Reads (fetch-back, thin events, reconciliation) spend a budget: this process's own,
        # or, given one, a budget shared by every process on every host.
        self._reads = reads or RateLimiter(read_rate)

    def list_subscriptions(
        self, *, customer: str | None = None, page_size: int = 100
    ) -> Iterator[list[dict[str, Any]]]:
        """Every subscription (all statuses), one page at a time: memory stays bounded."""
        params: Any = {"limit": page_size, "status": "all"}
        if customer:
            params["customer"] = customer
        yield from self._pages(self.client.v1.subscriptions.list, params)

    def list_events(
        self,
        *,
        created_gte: int | None = None,
        delivery_success: bool | None = None,
        page_size: int = 100,
    ) -> Iterator[list[dict[str, Any]]]:
        params: Any = {"limit": page_size}
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        if delivery_success is not None:
            params["delivery_success"] = delivery_success
        yield from self._pages(self.client.v1.events.list, params)

    def _pages(self, list_call: Any, params: Any) -> Iterator[list[dict[str, Any]]]:
        while True:
            self._reads.acquire()
            with _translate_errors("list"):
                page = list_call(params)
            items = [item.to_dict() for item in page.data]
            if items:
                yield items
            if not page.has_more or not items:
                return
            params = {**params, "starting_after": items[-1]["id"]}

    def retrieve(self, object_type: str, object_id: str) -> dict[str, Any]:
        """The current state of a Stripe object seatflow acts on, as Stripe has it now."""
        services = {
            "subscription": self.client.v1.subscriptions,
            "invoice": self.client.v1.invoices,
            "checkout_session": self.client.v1.checkout.sessions,
            "setup_intent": self.client.v1.setup_intents,
            "payment_method": self.client.v1.payment_methods,
            "customer": self.client.v1.customers,
            "subscription_schedule": self.client.v1.subscription_schedules,
        }
        if object_type not in services:
            raise ValueError(f"cannot fetch a {object_type!r}")
        self._reads.acquire()
        with _translate_errors(f"retrieve_{object_type}"):
            found = services[object_type].retrieve(object_id)
        result: dict[str, Any] = found.to_dict()
        return result

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
        """The upgrade's draft invoice, with nothing on it yet: its id. seatflow records the
        id before anything is billed on it, so every later event of the invoice finds its
        upgrade by that id, however long Stripe is away. A retry replays Stripe's answer.
        With `promotion_code` (Stripe's id) the invoice carries it (Stripe takes its discount
        off and counts the redemption when the invoice is paid); PromotionCodeRefused if
        Stripe refuses it. Without one it carries no discount at all (`discounts=""`): a
        discount standing on the customer in Stripe would otherwise be inherited, and the
        invoice would bill another amount than the customer was shown."""
        params: Any = {
            "customer": customer_id,
            "currency": currency,
            "collection_method": "charge_automatically",
            "auto_advance": False,
            "pending_invoice_items_behavior": "exclude",
            "description": description,
            "metadata": metadata,
        }
        params["discounts"] = [{"promotion_code": promotion_code}] if promotion_code else ""
        with promotion_refusals(), _translate_errors("create_invoice"):
            invoice = self.client.v1.invoices.create(
                params, {"idempotency_key": idempotency_key(upgrade_id, "invoice")}
            )
        return str(invoice.id)

    def finalize_invoice(
        self, *, upgrade_id: str, invoice_id: str, amount: int, currency: str, description: str
    ) -> InvoiceFact:
        """Bill `amount` on the recorded draft and finalize it. Each step asks Stripe's state
        first (a line only on a draft without lines, finalize only a draft): a retry after
        Stripe forgot the keys adds nothing twice. The invoice as Stripe then has it;
        PromotionCodeRefused if Stripe refuses the invoice's promotion code now."""
        invoice = self.retrieve("invoice", invoice_id)
        if invoice.get("status") != "draft":
            return invoice_fact(invoice)
        v1 = self.client.v1
        with promotion_refusals():
            if not (invoice.get("lines") or {}).get("data"):
                with _translate_errors("invoice_item", invoice_id):
                    v1.invoice_items.create(
                        {
                            "customer": invoice["customer"],
                            "invoice": invoice_id,
                            "amount": amount,
                            "currency": currency,
                            "description": description,
                            "metadata": {"upgrade_id": upgrade_id},
                        },
                        {"idempotency_key": idempotency_key(upgrade_id, "item")},
                    )
            with _translate_errors("finalize_invoice", invoice_id):
                finalized = v1.invoices.finalize_invoice(
                    invoice_id,
                    {"auto_advance": False},
                    {"idempotency_key": idempotency_key(upgrade_id, "finalize")},
                )
        return invoice_fact(finalized.to_dict())

    def pay_invoice(
        self,
        *,
        upgrade_id: str,
        invoice_id: str,
        attempt: int = 1,
        payment_method_id: str | None = None,
    ) -> ChargeResult:
        """Pay an upgrade's invoice with the card on file (`payment_method_id`), else the
        customer's default card. A later `attempt` pays the same invoice again (a new key:
        Stripe keeps a decline as the stored answer of the previous one)."""
        step = "pay" if attempt <= 1 else f"pay-{attempt}"
        params: Any = {"off_session": True}
        if payment_method_id:
            params["payment_method"] = payment_method_id
        try:
            with _translate_errors("pay_invoice", invoice_id):
                paid = self.client.v1.invoices.pay(
                    invoice_id,
                    params,
                    {"idempotency_key": idempotency_key(upgrade_id, step)},
                )
        except stripe.CardError as exc:
            if exc.code in ACTION_CODES:  # the customer authenticates on the hosted page
                url = self.retrieve("invoice", invoice_id).get("hosted_invoice_url")
                return ChargeResult(invoice_id, paid=False, failure=_reason(exc), action_url=url)
            return ChargeResult(invoice_id, paid=False, failure=_reason(exc))
        except ChargeRejected as rejected:
            found = self.retrieve("invoice", invoice_id)
            if found.get("status") != "paid":  # not "already paid": a real refusal
                refusal = promotion_refusal(rejected)
                if refusal is not None:
                    raise refusal from rejected
                raise
            amount = int(found.get("amount_paid") or 0)
            return ChargeResult(invoice_id, paid=True, amount_paid=amount, already_paid=True)
        return ChargeResult(
            invoice_id, paid=paid.status == "paid", amount_paid=int(paid.amount_paid or 0)
        )

    def update_subscription(self, change: SubscriptionChange) -> None:
        metadata = {"seatflow_upgrade_id": change.upgrade_id}
        params: Any = {
            "items": [
                {"id": change.item_id, "price": change.price_id, "quantity": change.quantity}
            ],
            "proration_behavior": "none",
            "metadata": metadata,
        }
        if change.prepaid_until is not None:
            params["trial_end"] = int(change.prepaid_until.timestamp())
            metadata[PREPAID_UNTIL] = str(params["trial_end"])
            metadata[CYCLE_START] = str(int(change.cycle_start.timestamp()))
        with _translate_errors("update_subscription"):
            self.client.v1.subscriptions.update(
                change.subscription_id,
                params,
                {"idempotency_key": idempotency_key(change.upgrade_id, "subscription")},
            )

    def void_invoice(self, *, upgrade_id: str, invoice_id: str) -> str:
        """Void an unpaid invoice; its status afterwards (`void`, or `paid` if it was paid
        meanwhile: Stripe refuses to void a paid invoice). A draft, which billed nothing, is
        deleted instead (Stripe voids only finalized invoices) and counts as `void`."""
        try:
            with _translate_errors("void_invoice", invoice_id):
                self.client.v1.invoices.void_invoice(
                    invoice_id, options={"idempotency_key": idempotency_key(upgrade_id, "void")}
                )
        except ChargeRejected:
            status = str(self.retrieve("invoice", invoice_id).get("status"))
            if status == "draft":
                with _translate_errors("delete_invoice", invoice_id):
                    self.client.v1.invoices.delete(invoice_id)
                return "void"
            if status in ("void", "paid"):
                return status
            raise
        return "void"

    def refund_invoice(self, *, upgrade_id: str, invoice_id: str, amount: int) -> str:
        """Refund what an invoice captured, once: the key derives from both ids."""
        invoice = self.retrieve("invoice", invoice_id)
        payments = (invoice.get("payments") or {}).get("data") or []
        paid = [p for p in payments if p.get("status") == "paid"]
        if not paid:
            raise ChargeRejected("invalid_request", f"invoice {invoice_id} captured nothing")
        intent = paid[-1]["payment"]["payment_intent"]
        with _translate_errors("refund", invoice_id):
            refund = self.client.v1.refunds.create(
                {
                    "payment_intent": intent,
                    "amount": amount,
                    "metadata": {"upgrade_id": upgrade_id},
                },
                {"idempotency_key": f"seatflow-refund-{upgrade_id}-{invoice_id}"},
            )
        return str(refund.id)

    def credit_balance(
        self, *, upgrade_id: str, invoice_id: str, customer_id: str, amount: int, currency: str
    ) -> str:
        """Give back to the customer's balance what an invoice took from it, once (Stripe
        refunds only what a card paid)."""
        with _translate_errors("credit_balance", invoice_id):
            transaction = self.client.v1.customers.balance_transactions.create(
                customer_id,
                {
                    "amount": -amount,
                    "currency": currency,
                    "description": f"Upgrade {upgrade_id} given back (invoice {invoice_id})",
                    "metadata": {"upgrade_id": upgrade_id},
                },
                {"idempotency_key": f"seatflow-credit-{upgrade_id}-{invoice_id}"},
            )
        return str(transaction.id)

    def schedule_change(self, request: ScheduleRequest) -> ScheduleFact:
        """The subscription's schedule (made from it, or the one it already has) with two
        phases: the current one, unchanged, until the period's end, then the change's price
        and quantity for one cycle; nothing prorated, released when done. If the current
        phase no longer ends at the change's date (the period moved on), its phases are left
        alone and the schedule is returned as it is."""
        schedule = self._schedule_of(request)
        current = _current_phase(schedule)
        if current is None or int(current.get("end_date") or 0) != int(
            request.effective_at.timestamp()
        ):
            return schedule_fact(schedule)
        kept: Any = {
            "items": [
                {"price": _price_id(item["price"]), "quantity": int(item.get("quantity") or 1)}
                for item in current["items"]
            ],
            "start_date": int(current["start_date"]),
            "end_date": int(current["end_date"]),
            "proration_behavior": "none",
        }
        if current.get("trial_end"):
            kept["trial_end"] = int(current["trial_end"])
        following = {
            "items": [{"price": request.price_id, "quantity": request.quantity}],
            "end_date": int(request.phase_end.timestamp()),
            "proration_behavior": "none",
        }
        with _translate_errors("update_schedule"):
            updated = self.client.v1.subscription_schedules.update(
                str(schedule["id"]),
                {
                    "end_behavior": "release",
                    "phases": [kept, following],
                    "metadata": {"seatflow_change_id": request.change_id},
                },
                {"idempotency_key": change_key(request.change_id, "phases")},
            )
        return schedule_fact(updated.to_dict())

    def _schedule_of(self, request: ScheduleRequest) -> dict[str, Any]:
        try:
            with _translate_errors("create_schedule"):
                created = self.client.v1.subscription_schedules.create(
                    {"from_subscription": request.subscription_id},
                    {"idempotency_key": change_key(request.change_id, "schedule")},
                )
        except ChargeRejected:
            # Attached to a schedule already (made in the dashboard, say): that one carries it.
            attached = self.retrieve("subscription", request.subscription_id).get("schedule")
            if not attached:
                raise
            return self.retrieve("subscription_schedule", str(_price_id(attached)))
        result: dict[str, Any] = created.to_dict()
        return result

    def release_schedule(self, *, change_id: str, schedule_id: str) -> ScheduleFact:
        """Release the schedule, once; one already released, completed or canceled (in the
        dashboard, say) is returned as it is."""
        try:
            with _translate_errors("release_schedule"):
                released = self.client.v1.subscription_schedules.release(
                    schedule_id, options={"idempotency_key": change_key(change_id, "release")}
                )
        except ChargeRejected:
            found = self.retrieve("subscription_schedule", schedule_id)
            if found.get("status") in ("not_started", "active"):
                raise
            return schedule_fact(found)
        return schedule_fact(released.to_dict())


def _price_id(value: Any) -> str:
    return str(value.get("id") if isinstance(value, dict) else value)


def _current_phase(schedule: dict[str, Any]) -> dict[str, Any] | None:
    """The phase Stripe is in now (`current_phase` names its bounds)."""
    current = schedule.get("current_phase") or {}
    for phase in schedule.get("phases") or []:
        if phase.get("start_date") == current.get("start_date"):
            found: dict[str, Any] = phase
            return found
    return None
