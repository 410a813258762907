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
from typing import Any

import stripe

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
