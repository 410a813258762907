"""Which API operation answers which method and path: `route(method, path)`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.stripe_model.base import Json, StripeApiError
from tests.stripe_model.customers import public_endpoint
from tests.stripe_model.state import StripeState

Handler = Callable[[StripeState, tuple[str, ...], Json], Json]
ID = r"([A-Za-z0-9_]+)"


def _get(kind: str) -> Handler:
    return lambda s, ids, q: s.get(kind, ids[0])


def _list(kind: str, url: str, *filters: str) -> Handler:
    def handler(s: StripeState, ids: tuple[str, ...], q: Json) -> Json:
        return s.list_objects(kind, q, url, **{name: q.get(name) for name in filters})

    return handler


def _by_id(method: Callable[..., Json]) -> Handler:
    """An operation on one object: `method(state, object_id, params)`."""
    return lambda s, ids, q: method(s, ids[0], q)


def _endpoints(s: StripeState, ids: tuple[str, ...], q: Json) -> Json:
    page = s.list_objects("webhook_endpoint", q, "/v1/webhook_endpoints")
    page["data"] = [public_endpoint(e) for e in page["data"]]
    return page


def _payment_methods(s: StripeState, ids: tuple[str, ...], q: Json) -> Json:
    customer = ids[0] if ids else q.get("customer")
    return s.list_objects("payment_method", q, "/v1/payment_methods", customer=customer)


def _lines(s: StripeState, ids: tuple[str, ...], q: Json) -> Json:
    lines = s.get("invoice", ids[0])["lines"]["data"]
    return s.page(lines[::-1], q, f"/v1/invoices/{ids[0]}/lines")


def _invoice_payments(s: StripeState, ids: tuple[str, ...], q: Json) -> Json:
    found = [
        payment
        for invoice in s.all("invoice")
        for payment in invoice["payments"]["data"]
        if q.get("invoice") in (None, invoice["id"])
    ]
    return s.page(found, q, "/v1/invoice_payments")


def _confirm_setup(s: StripeState, ids: tuple[str, ...], q: Json) -> Json:
    intent = s.get("setup_intent", ids[0])
    intent["payment_method"] = q.get("payment_method") or intent["payment_method"]
    s._succeed_setup(intent)
    return intent


ROUTES: list[tuple[str, str, Handler]] = [
    ("POST", "/v1/customers", lambda s, ids, q: s.customers_create(q)),
    ("GET", "/v1/customers", _list("customer", "/v1/customers", "email")),
    ("GET", f"/v1/customers/{ID}", _get("customer")),
    ("POST", f"/v1/customers/{ID}", _by_id(StripeState.customers_update)),
    ("GET", f"/v1/customers/{ID}/payment_methods", _payment_methods),
    (
        "POST",
        f"/v1/customers/{ID}/balance_transactions",
        _by_id(StripeState.customers_balance_transactions_create),
    ),
    ("POST", "/v1/payment_methods", lambda s, ids, q: s.payment_methods_create(q)),
    ("GET", "/v1/payment_methods", _payment_methods),
    ("GET", f"/v1/payment_methods/{ID}", _get("payment_method")),
    ("POST", f"/v1/payment_methods/{ID}/attach", _by_id(StripeState.payment_methods_attach)),
    ("POST", f"/v1/payment_methods/{ID}/detach", _by_id(StripeState.payment_methods_detach)),
    ("POST", "/v1/setup_intents", lambda s, ids, q: s.setup_intents_create(q)),
    ("GET", f"/v1/setup_intents/{ID}", _get("setup_intent")),
    ("POST", f"/v1/setup_intents/{ID}/confirm", _confirm_setup),
    ("POST", "/v1/checkout/sessions", lambda s, ids, q: s.checkout_sessions_create(q)),
    ("GET", f"/v1/checkout/sessions/{ID}", _get("checkout.session")),
    ("POST", "/v1/webhook_endpoints", lambda s, ids, q: s.webhook_endpoints_create(q)),
    ("GET", "/v1/webhook_endpoints", _endpoints),
    (
        "GET",
        f"/v1/webhook_endpoints/{ID}",
        lambda s, ids, q: public_endpoint(s.get("webhook_endpoint", ids[0])),
    ),
    ("POST", f"/v1/webhook_endpoints/{ID}", _by_id(StripeState.webhook_endpoints_update)),
    ("DELETE", f"/v1/webhook_endpoints/{ID}", lambda s, ids, q: s.webhook_endpoints_delete(ids[0])),
    ("POST", "/v1/prices", lambda s, ids, q: s.prices_create(q)),
    ("GET", "/v1/prices", _list("price", "/v1/prices", "active", "lookup_key", "product")),
    ("GET", f"/v1/prices/{ID}", _get("price")),
    ("POST", "/v1/coupons", lambda s, ids, q: s.coupons_create(q)),
    ("GET", "/v1/coupons", _list("coupon", "/v1/coupons")),
    ("GET", f"/v1/coupons/{ID}", _get("coupon")),
    ("POST", "/v1/promotion_codes", lambda s, ids, q: s.promotion_codes_create(q)),
    ("GET", "/v1/promotion_codes", lambda s, ids, q: s.promotion_codes_list(q)),
    ("GET", f"/v1/promotion_codes/{ID}", _by_id(StripeState.promotion_code)),
    ("POST", f"/v1/promotion_codes/{ID}", _by_id(StripeState.promotion_codes_update)),
    ("POST", "/v1/invoiceitems", lambda s, ids, q: s.invoiceitems_create(q)),
    ("GET", "/v1/invoiceitems", _list("invoiceitem", "/v1/invoiceitems", "customer", "invoice")),
    ("GET", f"/v1/invoiceitems/{ID}", _get("invoiceitem")),
    ("POST", "/v1/invoices", lambda s, ids, q: s.invoices_create(q)),
    ("GET", "/v1/invoices", _list("invoice", "/v1/invoices", "customer", "status")),
    ("GET", f"/v1/invoices/{ID}", _get("invoice")),
    ("POST", f"/v1/invoices/{ID}", _by_id(StripeState.invoices_update)),
    ("DELETE", f"/v1/invoices/{ID}", lambda s, ids, q: s.invoices_delete(ids[0])),
    ("GET", f"/v1/invoices/{ID}/lines", _lines),
    ("POST", f"/v1/invoices/{ID}/finalize", _by_id(StripeState.invoices_finalize)),
    ("POST", f"/v1/invoices/{ID}/pay", _by_id(StripeState.invoices_pay)),
    ("POST", f"/v1/invoices/{ID}/void", _by_id(StripeState.invoices_void)),
    (
        "POST",
        f"/v1/invoices/{ID}/mark_uncollectible",
        _by_id(StripeState.invoices_mark_uncollectible),
    ),
    ("GET", "/v1/invoice_payments", _invoice_payments),
    ("POST", "/v1/subscriptions", lambda s, ids, q: s.subscriptions_create(q)),
    ("GET", "/v1/subscriptions", lambda s, ids, q: s.subscriptions_list(q)),
    ("GET", f"/v1/subscriptions/{ID}", _get("subscription")),
    ("POST", f"/v1/subscriptions/{ID}", _by_id(StripeState.subscriptions_update)),
    ("DELETE", f"/v1/subscriptions/{ID}", _by_id(StripeState.subscriptions_cancel)),
    (
        "POST",
        "/v1/subscription_schedules",
        lambda s, ids, q: s.subscription_schedules_create(q),
    ),
    (
        "GET",
        "/v1/subscription_schedules",
        _list("subscription_schedule", "/v1/subscription_schedules", "customer"),
    ),
    ("GET", f"/v1/subscription_schedules/{ID}", _get("subscription_schedule")),
    (
        "POST",
        f"/v1/subscription_schedules/{ID}",
        _by_id(StripeState.subscription_schedules_update),
    ),
    (
        "POST",
        f"/v1/subscription_schedules/{ID}/release",
        _by_id(StripeState.subscription_schedules_release),
    ),
    (
        "POST",
        f"/v1/subscription_schedules/{ID}/cancel",
        _by_id(StripeState.subscription_schedules_cancel),
    ),
    ("GET", f"/v1/payment_intents/{ID}", _get("payment_intent")),
    ("GET", f"/v1/charges/{ID}", _get("charge")),
    ("POST", "/v1/refunds", lambda s, ids, q: s.refunds_create(q)),
    ("GET", "/v1/refunds", _list("refund", "/v1/refunds", "charge", "payment_intent")),
    ("GET", f"/v1/refunds/{ID}", _get("refund")),
    ("GET", "/v1/events", lambda s, ids, q: s.events_list(q)),
    ("GET", f"/v1/events/{ID}", lambda s, ids, q: s.event(ids[0])),
]
_COMPILED = [(method, re.compile(pattern + "$"), handler) for method, pattern, handler in ROUTES]


def route(method: str, path: str) -> tuple[Handler, tuple[str, ...]]:
    """The handler for a request and the ids in its path; a Stripe-shaped 404 otherwise."""
    for wanted, pattern, handler in _COMPILED:
        found = pattern.match(path)
        if found and wanted == method:
            return handler, found.groups()
    raise StripeApiError(
        404,
        "invalid_request_error",
        f"Unrecognized request URL ({method}: {path}).",
        stored=False,
    )


def answer(state: StripeState, method: str, path: str, params: Json) -> Any:
    handler, ids = route(method, path)
    with state.lock:
        return handler(state, ids, params)
