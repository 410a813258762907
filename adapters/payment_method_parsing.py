"""Stripe events about a customer's payment method → `AdoptPaymentMethod`; an invoice's receipt.

Four events can say "this customer has a new card": `checkout.session.completed` (setup
mode: names only the setup intent), `setup_intent.succeeded`, `payment_method.attached`
(carries the card's brand, last 4 and expiry) and `customer.updated` (the default changed,
e.g. in Stripe's customer portal). They all become one command; the handler makes it the
default once and ignores the echoes.
"""

from __future__ import annotations

from typing import Any

from domain.commands import AdoptPaymentMethod
from domain.payment_methods import Card

# The idempotency keys of seatflow's requests that make a card the customer's default
# (adapters/stripe_setup.set_default_payment_method); Stripe names the key in the events
# such a request causes.
DEFAULT_CARD_KEY_PREFIX = "seatflow-pm-"


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def card_of(payment_method: Any) -> Card | None:
    """Brand, last 4 and expiry of a card payment method object; None for anything else."""
    if not isinstance(payment_method, dict):
        return None
    card = payment_method.get("card") or {}
    if not card.get("last4"):
        return None
    return Card(
        brand=str(card.get("display_brand") or card.get("brand") or "card"),
        last4=str(card["last4"]),
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
    )


def _command(
    event: dict[str, Any], customer: Any, payment_method: Any, setup_intent: Any = None
) -> AdoptPaymentMethod | None:
    customer_id = _id(customer)
    if not customer_id or not (_id(payment_method) or _id(setup_intent)):
        return None
    return AdoptPaymentMethod(
        stripe_customer_id=customer_id,
        payment_method_id=_id(payment_method),
        version=int(event["created"]),
        event_id=str(event.get("id", "")),
        setup_intent_id=_id(setup_intent),
        card=card_of(payment_method),
        by_seatflow=_idempotency_key(event).startswith(DEFAULT_CARD_KEY_PREFIX),
    )


def _idempotency_key(event: dict[str, Any]) -> str:
    """The key of the request that caused the event, or "" (none, a dashboard or automatic
    change, or an older API version's `request`: the request's id alone)."""
    request = event.get("request")
    key = request.get("idempotency_key") if isinstance(request, dict) else None
    return key if isinstance(key, str) else ""


def checkout_completed(event: dict[str, Any]) -> AdoptPaymentMethod | None:
    """Only a setup-mode session adds a card; a payment-mode one is not seatflow's."""
    session = event["data"]["object"]
    if session.get("mode") != "setup":
        return None
    intent = session.get("setup_intent")
    payment_method = intent.get("payment_method") if isinstance(intent, dict) else None
    return _command(event, session.get("customer"), payment_method, intent)


def setup_intent_succeeded(event: dict[str, Any]) -> AdoptPaymentMethod | None:
    intent = event["data"]["object"]
    return _command(event, intent.get("customer"), intent.get("payment_method"))


def payment_method_attached(event: dict[str, Any]) -> AdoptPaymentMethod | None:
    payment_method = event["data"]["object"]
    return _command(event, payment_method.get("customer"), payment_method)


def customer_updated(event: dict[str, Any]) -> AdoptPaymentMethod | None:
    """Only when the default itself changed: another field's change in the same second would
    otherwise carry the old default and could undo a newer card."""
    customer = event["data"]["object"]
    previous = event["data"].get("previous_attributes")
    if previous is not None and "default_payment_method" not in (
        previous.get("invoice_settings") or {}
    ):
        return None
    default = (customer.get("invoice_settings") or {}).get("default_payment_method")
    return _command(event, customer, default)
