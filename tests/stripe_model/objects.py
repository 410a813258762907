"""Stripe object shapes (API 2026-07-29), reduced to the fields a consumer reads.

The field names and nesting follow Stripe's published fixtures
(/work/shared/stripe-fixtures/openapi/*.json): the billing period lives on subscription
items, an invoice names its subscription under `parent.subscription_details`, and its
payments are `invoice_payment` objects (there is no `invoice.payment_intent` any more).
"""

from __future__ import annotations

from typing import Any

from tests.stripe_model.base import Behaviour, Json, new_id

CARDS: dict[Behaviour, tuple[str, str]] = {
    "succeeds": ("visa", "4242"),
    "declines": ("visa", "0002"),
    "requires_action": ("visa", "3155"),
}


def listing(data: list[Json], url: str, has_more: bool = False) -> Json:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def customer(now: int, params: Json) -> Json:
    customer_id = str(params.get("id") or new_id("cus"))
    return {
        "id": customer_id,
        "object": "customer",
        "balance": 0,
        "created": now,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": params.get("description"),
        "email": params.get("email"),
        "invoice_prefix": customer_id[-8:].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "name": params.get("name"),
        "next_invoice_sequence": 1,
        "test_clock": None,
    }


def payment_method(now: int, behaviour: Behaviour, customer_id: str | None) -> Json:
    brand, last4 = CARDS[behaviour]
    return {
        "id": new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "card": {
            "brand": brand,
            "country": "US",
            "display_brand": brand,
            "exp_month": 8,
            "exp_year": 2030,
            "funding": "credit",
            "last4": last4,
            "three_d_secure_usage": {"supported": True},
        },
        "created": now,
        "customer": customer_id,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }


def payment_intent(now: int, invoice: Json, payment_method_id: str | None) -> Json:
    pi_id = new_id("pi")
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": invoice["amount_remaining"],
        "amount_capturable": 0,
        "amount_received": 0,
        "capture_method": "automatic",
        "client_secret": f"{pi_id}_secret_{new_id('s')[2:]}",
        "confirmation_method": "automatic",
        "created": now,
        "currency": invoice["currency"],
        "customer": invoice["customer"],
        "description": invoice.get("description"),
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": {},
        "next_action": None,
        "payment_method": payment_method_id,
        "payment_method_types": ["card"],
        "status": "requires_confirmation",
    }


def charge(now: int, intent: Json, paid: bool, failure: tuple[str, str] | None) -> Json:
    return {
        "id": new_id("ch"),
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"] if paid else 0,
        "amount_refunded": 0,
        "captured": paid,
        "created": now,
        "currency": intent["currency"],
        "customer": intent["customer"],
        "description": intent.get("description"),
        "failure_code": failure[0] if failure else None,
        "failure_message": failure[1] if failure else None,
        "livemode": False,
        "metadata": {},
        "outcome": {"type": "authorized" if paid else "issuer_declined"},
        "paid": paid,
        "payment_intent": intent["id"],
        "payment_method": intent["payment_method"],
        "refunded": False,
        "status": "succeeded" if paid else "failed",
    }


def refund(now: int, charge_obj: Json, amount: int, params: Json) -> Json:
    return {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "charge": charge_obj["id"],
        "created": now,
        "currency": charge_obj["currency"],
        "metadata": dict(params.get("metadata") or {}),
        "payment_intent": charge_obj["payment_intent"],
        "reason": params.get("reason"),
        "status": "succeeded",
    }


def invoice(now: int, customer_obj: Json, params: Json) -> Json:
    invoice_id = new_id("in")
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": 0,
        "amount_paid": 0,
        "amount_remaining": 0,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": params.get("auto_advance", "true") == "true",
        "billing_reason": params.get("billing_reason", "manual"),
        "collection_method": params.get("collection_method", "charge_automatically"),
        "created": now,
        "currency": params.get("currency") or customer_obj.get("currency") or "usd",
        "customer": customer_obj["id"],
        "customer_email": customer_obj.get("email"),
        "default_payment_method": params.get("default_payment_method"),
        "description": params.get("description"),
        "discounts": [],
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "last_finalization_error": None,
        "lines": listing([], f"/v1/invoices/{invoice_id}/lines"),
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "next_payment_attempt": None,
        "number": None,
        "parent": params.get("parent"),
        "payments": listing([], f"/v1/invoice_payments?invoice={invoice_id}"),
        "period_end": now,
        "period_start": now,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": 0,
        "total": 0,
        "total_discount_amounts": [],
    }


def invoice_item(now: int, params: Json, amount: int, price: Json | None) -> Json:
    quantity = int(params.get("quantity") or 1)
    period = params.get("period") or {}
    subscription = params.get("subscription")
    return {
        "id": new_id("ii"),
        "object": "invoiceitem",
        "amount": amount,
        "currency": params.get("currency") or (price or {}).get("currency") or "usd",
        "customer": params["customer"],
        "date": now,
        "description": params.get("description"),
        "invoice": params.get("invoice"),
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription},
        }
        if subscription
        else None,
        "period": {"start": int(period.get("start", now)), "end": int(period.get("end", now))},
        "pricing": pricing(price),
        "proration": params.get("proration", False) is True,
        "quantity": quantity,
    }


def pricing(price: Json | None) -> Json | None:
    if price is None:
        return None
    details = {"price": price["id"], "product": price.get("product")}
    return {
        "type": "price_details",
        "price_details": details,
        "unit_amount_decimal": str(price.get("unit_amount")),
    }


def line_item(invoice_id: str, source: Json, item_kind: str) -> Json:
    """A line of an invoice, from an invoice item or a subscription item's charge."""
    details: Json = {"proration": source.get("proration", False)}
    if item_kind == "invoice_item":
        parent_sub = (source.get("parent") or {}).get("subscription_details") or {}
        details.update(invoice_item=source["id"], subscription=parent_sub.get("subscription"))
    else:
        details.update(subscription=source["subscription"], subscription_item=source["item"])
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": source["amount"],
        "currency": source["currency"],
        "description": source.get("description"),
        "discount_amounts": [],
        "discountable": not source.get("proration", False),
        "invoice": invoice_id,
        "livemode": False,
        "metadata": dict(source.get("metadata") or {}),
        "parent": {"type": f"{item_kind}_details", f"{item_kind}_details": details},
        "period": dict(source["period"]),
        "pricing": source.get("pricing"),
        "quantity": source.get("quantity", 1),
        "subtotal": source["amount"],
    }


def price(now: int, params: Json) -> Json:
    recurring: Any = params.get("recurring")
    amount = int(params.get("unit_amount") or 0)
    return {
        "id": str(params.get("id") or new_id("price")),
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": now,
        "currency": params.get("currency", "usd"),
        "livemode": False,
        "lookup_key": params.get("lookup_key"),
        "metadata": dict(params.get("metadata") or {}),
        "nickname": params.get("nickname"),
        "product": params.get("product") or new_id("prod"),
        "recurring": None
        if not recurring
        else {
            "interval": recurring["interval"],
            "interval_count": int(recurring.get("interval_count", 1)),
            "meter": None,
            "usage_type": "licensed",
        },
        "type": "recurring" if recurring else "one_time",
        "unit_amount": amount,
        "unit_amount_decimal": str(amount),
    }
