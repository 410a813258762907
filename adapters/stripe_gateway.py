"""The one module that talks to Stripe.

Charging an upgrade's surcharge: Stripe's own proration is not used, because the product
documents define the amount (calendar cycles, whole minutes, half-up rounding) and Stripe
would compute another. Instead a one-off invoice carries exactly the amount seatflow computed:

1. `POST /v1/invoices` for the customer, `pending_invoice_items_behavior=exclude` (so no
   unrelated pending item rides along), `auto_advance=false`, metadata naming the upgrade;
2. `POST /v1/invoiceitems` with `invoice=` that invoice and the exact amount;
3. `POST /v1/invoices/{id}/finalize`;
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
from contextlib import contextmanager
from typing import Any, Protocol

import stripe

from config.metrics import STRIPE_CALLS
from domain.ports import ChargeRejected, ChargeResult, ChargeUnavailable, SubscriptionChange


class StripeUnavailable(ChargeUnavailable):
    """A transient Stripe failure (network, rate limit, 5xx): retry later."""

    def __init__(self, message: str, kind: str = "server_error") -> None:
        super().__init__(kind, message)


# Card errors that mean "the customer must authenticate", not "declined".
ACTION_CODES = frozenset({"authentication_required", "invoice_payment_intent_requires_action"})


def idempotency_key(upgrade_id: str, step: str) -> str:
    return f"seatflow-upgrade-{upgrade_id}-{step}"


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


class StripeGateway:
    def __init__(
        self,
        api_key: str,
        api_base: str = "",
        max_network_retries: int = 2,
        read_rate: float = 20.0,
        reads: Limiter | None = None,
    ) -> None:
        addresses: Any = {"api": api_base} if api_base else None
        # The SDK retries connection errors, 409 lock timeouts and 429s with backoff.
        self.client = stripe.StripeClient(
            api_key, base_addresses=addresses, max_network_retries=max_network_retries
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
        }
        if object_type not in services:
            raise ValueError(f"cannot fetch a {object_type!r}")
        self._reads.acquire()
        with _translate_errors(f"retrieve_{object_type}"):
            found = services[object_type].retrieve(object_id)  # type: ignore[attr-defined]
        result: dict[str, Any] = found.to_dict()
        return result

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
    ) -> ChargeResult:
        """Invoice `amount` once and pay it. A later `attempt` pays the same invoice again
        (a new key: Stripe keeps a decline as the stored answer of the previous one)."""
        invoice = self._finalized_invoice(
            upgrade_id, customer_id, amount, currency, description, metadata
        )
        invoice_id = str(invoice.id)
        step = "pay" if attempt <= 1 else f"pay-{attempt}"
        try:
            with _translate_errors("charge", invoice_id):
                if invoice.status == "paid":
                    return ChargeResult(invoice_id, paid=True, amount_paid=invoice.amount_paid)
                paid = self.client.v1.invoices.pay(
                    invoice_id,
                    {"off_session": True},
                    {"idempotency_key": idempotency_key(upgrade_id, step)},
                )
        except stripe.CardError as exc:
            if exc.code in ACTION_CODES:
                url = invoice.hosted_invoice_url
                return ChargeResult(invoice_id, paid=False, failure=_reason(exc), action_url=url)
            return ChargeResult(invoice_id, paid=False, failure=_reason(exc))
        return ChargeResult(
            invoice_id, paid=paid.status == "paid", amount_paid=int(paid.amount_paid or 0)
        )

    def _finalized_invoice(
        self,
        upgrade_id: str,
        customer_id: str,
        amount: int,
        currency: str,
        description: str,
        metadata: dict[str, str],
    ) -> Any:
        v1 = self.client.v1
        with _translate_errors("charge"):
            invoice = v1.invoices.create(
                {
                    "customer": customer_id,
                    "currency": currency,
                    "collection_method": "charge_automatically",
                    "auto_advance": False,
                    "pending_invoice_items_behavior": "exclude",
                    "description": description,
                    "metadata": metadata,
                },
                {"idempotency_key": idempotency_key(upgrade_id, "invoice")},
            )
        invoice_id = str(invoice.id)
        with _translate_errors("charge", invoice_id):
            v1.invoice_items.create(
                {
                    "customer": customer_id,
                    "invoice": invoice_id,
                    "amount": amount,
                    "currency": currency,
                    "description": description,
                    "metadata": metadata,
                },
                {"idempotency_key": idempotency_key(upgrade_id, "item")},
            )
            return v1.invoices.finalize_invoice(
                invoice_id,
                {"auto_advance": False},
                {"idempotency_key": idempotency_key(upgrade_id, "finalize")},
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
            metadata["seatflow_prepaid_until"] = str(params["trial_end"])
            metadata["seatflow_cycle_start"] = str(int(change.cycle_start.timestamp()))
        with _translate_errors("update_subscription"):
            self.client.v1.subscriptions.update(
                change.subscription_id,
                params,
                {"idempotency_key": idempotency_key(change.upgrade_id, "subscription")},
            )

    def void_invoice(self, *, upgrade_id: str, invoice_id: str) -> str:
        """Void an unpaid invoice; its status afterwards (`void`, or `paid` if it was paid
        meanwhile: Stripe refuses to void a paid invoice)."""
        try:
            with _translate_errors("void_invoice", invoice_id):
                self.client.v1.invoices.void_invoice(
                    invoice_id, options={"idempotency_key": idempotency_key(upgrade_id, "void")}
                )
        except ChargeRejected:
            status = str(self.retrieve("invoice", invoice_id).get("status"))
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

    def payment_method_setup_url(
        self,
        *,
        customer_id: str,
        organization_id: str,
        return_url: str,
        cancel_url: str,
        portal: bool = False,
    ) -> str:
        """The address of a Stripe-hosted page where the customer enters a new card: a
        Checkout Session in setup mode, or (with `portal`) the Billing Portal. No card data
        passes through seatflow; the result arrives as events."""
        with _translate_errors("payment_method_setup"):
            if portal:
                session: Any = self.client.v1.billing_portal.sessions.create(
                    {"customer": customer_id, "return_url": return_url}
                )
            else:
                params: Any = {
                    "mode": "setup",
                    "customer": customer_id,
                    "currency": "usd",
                    "payment_method_types": ["card"],
                    "client_reference_id": organization_id,
                    "metadata": {"organization_id": organization_id},
                    "success_url": return_url,
                    "cancel_url": cancel_url,
                }
                session = self.client.v1.checkout.sessions.create(params)
        return str(session.url)

    def set_default_payment_method(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        subscription_ids: list[str],
        version: int,
    ) -> None:
        """The customer's invoices and each subscription are paid with this card from now on.

        Keys name the event's time too: A → B → A within Stripe's 24 h key window must set
        A again rather than replay the first answer."""
        key = f"seatflow-pm-{customer_id}-{payment_method_id}-{version}"
        with _translate_errors("set_default_payment_method"):
            self.client.v1.customers.update(
                customer_id,
                {"invoice_settings": {"default_payment_method": payment_method_id}},
                {"idempotency_key": f"{key}-customer"},
            )
            for subscription_id in subscription_ids:
                self.client.v1.subscriptions.update(
                    subscription_id,
                    {"default_payment_method": payment_method_id},
                    {"idempotency_key": f"{key}-{subscription_id}"},
                )

    def webhook_endpoints(self) -> list[dict[str, Any]]:
        """Every webhook endpoint of the account (without their secrets)."""
        found: list[dict[str, Any]] = []
        for page in self._pages(self.client.v1.webhook_endpoints.list, {"limit": 100}):
            found.extend(page)
        return found

    def create_webhook_endpoint(
        self, url: str, events: list[str], api_version: str
    ) -> dict[str, Any]:
        """A new endpoint; Stripe shows its signing secret in this answer only."""
        params: Any = {"url": url, "enabled_events": events, "api_version": api_version}
        with _translate_errors("create_webhook_endpoint"):
            created = self.client.v1.webhook_endpoints.create(params)
        result: dict[str, Any] = created.to_dict()
        return result

    def update_webhook_endpoint(
        self, endpoint_id: str, url: str, events: list[str]
    ) -> dict[str, Any]:
        """Its URL and event types (Stripe keeps the secret, and the API version it was
        created with)."""
        params: Any = {"url": url, "enabled_events": events, "disabled": False}
        with _translate_errors("update_webhook_endpoint"):
            updated = self.client.v1.webhook_endpoints.update(endpoint_id, params)
        result: dict[str, Any] = updated.to_dict()
        return result

    def list_prices(self, *, page_size: int = 100) -> Iterator[list[dict[str, Any]]]:
        """Every price with its metadata, one page at a time (the catalog reads its own)."""
        yield from self._pages(self.client.v1.prices.list, {"limit": page_size})


def _reason(exc: stripe.StripeError) -> str:
    return str(exc.user_message or exc.code or "payment declined")


# Stripe's error classes, by what a retry can do about them.
TRANSIENT: tuple[tuple[type[stripe.StripeError], str], ...] = (
    (stripe.RateLimitError, "rate_limit"),
    (stripe.APIConnectionError, "network"),
    (stripe.APIError, "server_error"),
)
PERMANENT: tuple[tuple[type[stripe.StripeError], str], ...] = (
    (stripe.AuthenticationError, "authentication"),
    (stripe.PermissionError, "authentication"),
    (stripe.InvalidRequestError, "invalid_request"),
    (stripe.IdempotencyError, "invalid_request"),
)


@contextmanager
def _translate_errors(operation: str, invoice_id: str | None = None) -> Iterator[None]:
    """Count the call's outcome; a transient failure becomes StripeUnavailable (retried), a
    permanent one ChargeRejected; a card error is the caller's to read."""
    try:
        yield
    except stripe.CardError:
        STRIPE_CALLS.labels(operation, "card_declined").inc()
        raise
    except stripe.StripeError as exc:
        for cls, kind in TRANSIENT:
            if isinstance(exc, cls):
                STRIPE_CALLS.labels(operation, "transient_error").inc()
                raise StripeUnavailable(f"{type(exc).__name__}: {exc}", kind) from exc
        kind = next((k for cls, k in PERMANENT if isinstance(exc, cls)), "invalid_request")
        STRIPE_CALLS.labels(operation, "error").inc()
        message = str(exc.user_message or exc) or type(exc).__name__
        raise ChargeRejected(kind, message, invoice_id) from exc
    STRIPE_CALLS.labels(operation, "ok").inc()
