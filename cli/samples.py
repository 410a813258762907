"""Signed sample Stripe events, shaped like Stripe's own fixtures (API 2026-07-29).

Used by `seatflow send-sample` and `seatflow dev --demo` so a new user can watch an event go
from HTTP 200 to `applied`, and by the tests.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from config.events import STRIPE_API_VERSION

API_VERSION = STRIPE_API_VERSION  # samples are rendered as the webhook endpoints render events


def subscription_object(
    *,
    customer: str,
    subscription_id: str = "sub_sample",
    license_type: str = "node_locked",
    seats: int = 5,
    interval: str = "month",
    period_start: int = 1640995200,
    period_end: int = 1643673600,
    status: str = "active",
    unit_amount: int = 2000,
    organization_id: str | None = None,
) -> dict[str, Any]:
    metadata = {"organization_id": organization_id} if organization_id else {}
    price = {
        "id": f"price_{license_type}_{interval}",
        "object": "price",
        "active": True,
        "currency": "usd",
        "unit_amount": unit_amount,
        "metadata": {"license_type": license_type},
        "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"},
        "type": "recurring",
    }
    return {
        "id": subscription_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "currency": "usd",
        "metadata": metadata,
        "billing_cycle_anchor": period_start,
        "start_date": period_start,
        "items": {
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "id": f"si_{subscription_id[4:]}",
                    "object": "subscription_item",
                    "current_period_start": period_start,
                    "current_period_end": period_end,
                    "price": price,
                    "quantity": seats,
                    "subscription": subscription_id,
                }
            ],
        },
    }


def event(
    event_type: str, obj: dict[str, Any], *, created: int | None = None, event_id: str | None = None
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()) if created is None else created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def signed(
    payload: dict[str, Any], secret: str, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery, signed the way Stripe signs it."""
    import stripe  # loaded when a sample is signed: other commands start without the SDK

    body = json.dumps(payload, separators=(",", ":"))
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    headers = {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header}
    return body.encode(), headers


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 10) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _invoice(customer: str, start: int, end: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": "in_sample",
        "object": "invoice",
        "customer": customer,
        "currency": "usd",
        "amount_due": 10000,
        "amount_paid": 0,
        "attempt_count": 1,
        "billing_reason": "subscription_cycle",
        "livemode": False,
        "metadata": {},
        "number": "SAMPLE-0001",
        "hosted_invoice_url": "https://invoice.stripe.com/i/sample",
        "invoice_pdf": "https://pay.stripe.com/invoice/sample/pdf",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": "sub_sample", "metadata": {}},
        },
        "lines": {"object": "list", "data": [{"period": {"start": start, "end": end}}]},
        "status_transitions": {"paid_at": None},
        **fields,
    }


def _card(customer: str) -> dict[str, Any]:
    return {
        "id": "pm_sample",
        "object": "payment_method",
        "type": "card",
        "customer": customer,
        "card": {"brand": "visa", "display_brand": "visa", "last4": "4242"}
        | {"exp_month": 12, "exp_year": 2034},
    }


def _subscription(status: str) -> Callable[[str, int, int], dict[str, Any]]:
    def make(customer: str, start: int, end: int) -> dict[str, Any]:
        obj = subscription_object(
            customer=customer, unit_amount=10000, period_start=start, period_end=end
        )
        return obj | {"status": status}

    return make


def _setup_intent(customer: str, start: int, end: int) -> dict[str, Any]:
    return {
        "id": "seti_sample",
        "object": "setup_intent",
        "customer": customer,
        "status": "succeeded",
        "payment_method": "pm_sample",
    }


def _schedule(status: str) -> Callable[[str, int, int], dict[str, Any]]:
    """A subscription schedule: the current period, then 2 seats from its end."""

    def make(customer: str, start: int, end: int) -> dict[str, Any]:
        live = status == "active"

        def phase(begin: int, until: int, quantity: int) -> dict[str, Any]:
            items = [{"price": "price_node_locked_month", "quantity": quantity}]
            return {"start_date": begin, "end_date": until, "items": items}

        return {
            "id": "sub_sched_sample",
            "object": "subscription_schedule",
            "customer": customer,
            "status": status,
            "subscription": "sub_sample" if live else None,
            "released_subscription": None if live else "sub_sample",
            "current_phase": {"start_date": start, "end_date": end} if live else None,
            "end_behavior": "release",
            "phases": [phase(start, end, 3), phase(end, end + (end - start), 2)],
            "metadata": {},
        }

    return make


# One sample object for each event type seatflow acts on (config/events.py), as
# `stripe trigger` sends them: (customer, period start, period end) -> the event's object.
OBJECTS: dict[str, Callable[[str, int, int], dict[str, Any]]] = {
    "customer.subscription.created": _subscription("active"),
    "customer.subscription.updated": _subscription("active"),
    "customer.subscription.deleted": _subscription("canceled"),
    "invoice.paid": lambda c, s, e: _invoice(
        c, s, e, status="paid", amount_paid=10000, status_transitions={"paid_at": s}
    ),
    "invoice.payment_failed": lambda c, s, e: _invoice(c, s, e, status="open"),
    "invoice.payment_action_required": lambda c, s, e: _invoice(c, s, e, status="open"),
    "checkout.session.completed": lambda c, s, e: {
        "id": "cs_sample",
        "object": "checkout.session",
        "mode": "setup",
        "status": "complete",
        "customer": c,
        "setup_intent": _setup_intent(c, s, e) | {"payment_method": _card(c)},
    },
    "setup_intent.succeeded": _setup_intent,
    "payment_method.attached": lambda c, s, e: _card(c),
    "customer.updated": lambda c, s, e: {
        "id": c,
        "object": "customer",
        "invoice_settings": {"default_payment_method": "pm_sample"},
    },
    "subscription_schedule.created": _schedule("active"),
    "subscription_schedule.updated": _schedule("active"),
    "subscription_schedule.released": _schedule("released"),
    "subscription_schedule.canceled": _schedule("canceled"),
    "subscription_schedule.completed": _schedule("completed"),
    "subscription_schedule.aborted": _schedule("canceled"),
}
# What changed, for the types whose events say so.
PREVIOUS = {"customer.updated": {"invoice_settings": {"default_payment_method": None}}}


def sample_event(event_type: str, customer: str, start: int, end: int) -> dict[str, Any]:
    """A sample event of `event_type` (one of OBJECTS) for `customer`."""
    made = event(event_type, OBJECTS[event_type](customer, start, end))
    if event_type in PREVIOUS:
        made["data"]["previous_attributes"] = PREVIOUS[event_type]
    return made
