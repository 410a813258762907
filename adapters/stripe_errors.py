"""Stripe's errors, classified by what a retry can do about them, and counted by outcome:
part of the gateway (adapters/stripe_gateway.py), the only code that imports `stripe`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import stripe

from config.metrics import STRIPE_CALLS
from domain.ports import ChargeRejected, ChargeUnavailable


class StripeUnavailable(ChargeUnavailable):
    """A transient Stripe failure (network, rate limit, 5xx): retry later."""

    def __init__(self, message: str, kind: str = "server_error") -> None:
        super().__init__(kind, message)


def reason(exc: stripe.StripeError) -> str:
    return str(exc.user_message or exc.code or "payment declined")


# Card errors that mean "the customer must authenticate", not "declined".
ACTION_CODES = frozenset({"authentication_required", "invoice_payment_intent_requires_action"})
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
def translate_errors(operation: str, invoice_id: str | None = None) -> Iterator[None]:
    """Count the call's outcome; a transient failure becomes StripeUnavailable (retried), a
    permanent one ChargeRejected; a card error is the caller's to read."""
    try:
        yield
    except stripe.CardError as exc:
        outcome = "requires_action" if exc.code in ACTION_CODES else "card_declined"
        STRIPE_CALLS.labels(operation, outcome).inc()
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


def refuses_discount(rejected: ChargeRejected) -> bool:
    """Stripe refused a request because of a discount it carries (a promotion code no
    longer redeemable, restricted, or in another currency): `param` names `discounts`."""
    cause = rejected.__cause__
    param = str(getattr(cause, "param", "") or "") if isinstance(cause, stripe.StripeError) else ""
    code = str(getattr(cause, "code", "") or "") if isinstance(cause, stripe.StripeError) else ""
    return param.startswith("discounts") or code == "coupon_expired"


def is_missing(rejected: ChargeRejected) -> bool:
    """Stripe answered 404: no such object."""
    cause = rejected.__cause__
    return isinstance(cause, stripe.InvalidRequestError) and cause.http_status == 404
