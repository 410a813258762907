"""Customers, payment methods, setup intents, Checkout (setup mode), prices, webhook endpoints."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from tests.stripe_model import objects
from tests.stripe_model.base import Behaviour, Json, Store, diff, invalid, malformed, new_id

# Stripe's test payment methods and card numbers, and what each does when charged.
TEST_CARDS: dict[str, tuple[Behaviour, str | None]] = {
    "pm_card_visa": ("succeeds", None),
    "pm_card_mastercard": ("succeeds", None),
    "pm_card_chargeDeclined": ("declines", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": ("declines", "insufficient_funds"),
    "pm_card_authenticationRequired": ("requires_action", None),
    "pm_card_threeDSecure2Required": ("requires_action", None),
    "4242424242424242": ("succeeds", None),
    "4000000000000002": ("declines", "generic_decline"),
    "4000000000009995": ("declines", "insufficient_funds"),
    "4000002500003155": ("requires_action", None),
    "4000002760003184": ("requires_action", None),
}


class Customers(Store):
    # -- customers -------------------------------------------------------------------------
    def create_customer(self, behaviour: Behaviour | None = "succeeds", **fields: Any) -> Json:
        """A customer; with a `behaviour`, also a default card that behaves so."""
        with self.lock:
            customer = self.customers_create(fields)
            if behaviour is not None:
                self.set_card(customer["id"], behaviour)
            return customer

    def customers_create(self, params: Json) -> Json:
        customer = self.put(objects.customer(self.now(), params))
        self.emit("customer.created", customer)
        return customer

    def customers_update(self, customer_id: str, params: Json) -> Json:
        customer = self.get("customer", customer_id)
        before = copy.deepcopy(customer)
        settings = params.get("invoice_settings") or {}
        if "default_payment_method" in settings:
            pm_id = settings["default_payment_method"] or None
            if pm_id and self.get("payment_method", pm_id).get("customer") != customer_id:
                raise invalid(
                    f"The customer does not have a payment method with the ID {pm_id}. "
                    "The payment method must be attached to the customer.",
                    param="invoice_settings[default_payment_method]",
                )
            customer["invoice_settings"]["default_payment_method"] = pm_id
        for name in ("email", "name", "description"):
            if name in params:
                customer[name] = params[name] or None
        _merge_metadata(customer, params)
        if customer != before:
            self.emit("customer.updated", customer, diff(before, customer))
        return customer

    def customers_balance_transactions_create(self, customer_id: str, params: Json) -> Json:
        """`POST /v1/customers/{id}/balance_transactions`: a negative amount credits the
        customer (Stripe takes the credit before charging the next invoice)."""
        customer = self.get("customer", customer_id, "customer")
        if "amount" not in params or "currency" not in params:
            raise malformed("Missing required param: amount or currency.")
        amount = int(params["amount"])
        before = int(customer.get("balance") or 0)
        customer["balance"] = before + amount
        transaction = {
            "id": new_id("cbtxn"),
            "object": "customer_balance_transaction",
            "amount": amount,
            "currency": params["currency"],
            "customer": customer_id,
            "description": params.get("description"),
            "ending_balance": customer["balance"],
            "metadata": params.get("metadata") or {},
            "created": self.now(),
            "type": "adjustment",
        }
        self.emit("customer.updated", customer, {"balance": before})
        return self.put(transaction)

    def give_credit(self, customer_id: str, amount: int) -> Json:
        """A dashboard user credits the customer's balance (Stripe takes it before charging a
        card): customer.updated with the previous balance."""
        with self.lock:
            customer = self.get("customer", customer_id)
            before = int(customer.get("balance") or 0)
            customer["balance"] = before - amount
            event = self.emit("customer.updated", customer, {"balance": before})
            return event

    def set_card(
        self, customer_id: str, behaviour: Behaviour, decline_code: str = "generic_decline"
    ) -> Json:
        """The customer adds a card that behaves so and makes it the default (as in a
        customer portal): payment_method.attached, then customer.updated."""
        with self.lock:
            pm = self._new_payment_method(behaviour, decline_code, customer_id)
            self.emit("payment_method.attached", pm)
            settings = {"default_payment_method": pm["id"]}
            self.customers_update(customer_id, {"invoice_settings": settings})
            return pm

    # -- payment methods -------------------------------------------------------------------
    def _new_payment_method(
        self, behaviour: Behaviour, decline_code: str | None, customer_id: str | None
    ) -> Json:
        pm = self.put(objects.payment_method(self.now(), behaviour, customer_id))
        self.behaviours[pm["id"]] = behaviour
        self.decline_codes[pm["id"]] = decline_code or "generic_decline"
        return pm

    def payment_methods_create(self, params: Json) -> Json:
        if params.get("type", "card") != "card":
            raise invalid("Only card payment methods exist here.", param="type")
        number = str((params.get("card") or {}).get("number") or "4242424242424242")
        behaviour, code = TEST_CARDS.get(number, ("succeeds", None))
        return self._new_payment_method(behaviour, code, None)

    def payment_methods_attach(self, pm_id: str, params: Json) -> Json:
        customer_id = params.get("customer")
        if not customer_id:
            raise malformed("Missing required param: customer.", "customer")
        self.get("customer", customer_id, "customer")
        if pm_id in TEST_CARDS:  # Stripe makes a new payment method from a test token
            behaviour, code = TEST_CARDS[pm_id]
            pm = self._new_payment_method(behaviour, code, None)
        else:
            pm = self.get("payment_method", pm_id)
        if pm.get("customer") not in (None, customer_id):
            raise invalid("The payment method is attached to another customer.")
        pm["customer"] = customer_id
        self.emit("payment_method.attached", pm)
        return pm

    def payment_methods_detach(self, pm_id: str, params: Json) -> Json:
        pm = self.get("payment_method", pm_id)
        if pm["customer"] is None:
            raise invalid(f"The payment method {pm_id} is not attached to a customer.")
        pm["customer"] = None
        self.emit("payment_method.detached", pm)
        return pm

    # -- setup intents and Checkout (setup mode) ---------------------------------------------
    def setup_intents_create(self, params: Json) -> Json:
        intent = self.put(_setup_intent(self.now(), params))
        self.emit("setup_intent.created", intent)
        if params.get("confirm") == "true" and intent["payment_method"]:
            self._succeed_setup(intent)
        return intent

    def _succeed_setup(self, intent: Json) -> None:
        intent["status"] = "succeeded"
        if intent["customer"]:
            pm = self.get("payment_method", intent["payment_method"])
            if pm["customer"] is None:
                self.payment_methods_attach(pm["id"], {"customer": intent["customer"]})
        self.emit("setup_intent.succeeded", intent)

    def checkout_sessions_create(self, params: Json) -> Json:
        if params.get("mode") != "setup":
            raise invalid("Only mode=setup Checkout Sessions are supported.", param="mode")
        customer = params.get("customer")
        if customer:
            self.get("customer", customer, "customer")
        intent = self.put(_setup_intent(self.now(), {"customer": customer}))
        session = self.put(_checkout_session(self.now(), params, intent["id"]))
        session["url"] = self.hosted(f"/checkout/{session['id']}", "https://checkout.stripe.com")
        return session

    def complete_checkout(self, session_id: str, behaviour: Behaviour = "succeeds") -> Json:
        """The customer enters a card on the Checkout page: the setup intent succeeds with a
        new payment method attached to the customer (not made default: that is the
        integration's job on `checkout.session.completed`)."""
        with self.lock:
            session = self.get("checkout.session", session_id)
            if session["status"] != "open":
                raise invalid(f"Checkout Session {session_id} is {session['status']}.")
            intent = self.get("setup_intent", session["setup_intent"])
            pm = self._new_payment_method(behaviour, None, None)
            intent["payment_method"] = pm["id"]
            self._succeed_setup(intent)
            session.update(status="complete")
            self.emit("checkout.session.completed", session)
            return session

    # -- prices ----------------------------------------------------------------------------
    def create_price(
        self,
        price_id: str | None = None,
        *,
        unit_amount: int,
        interval: str | None = "month",
        currency: str = "usd",
        metadata: dict[str, str] | None = None,
    ) -> Json:
        params: Json = {"id": price_id, "unit_amount": unit_amount, "currency": currency}
        params["recurring"] = {"interval": interval} if interval else None
        params["metadata"] = metadata or {}
        with self.lock:
            return self.prices_create(params)

    def prices_create(self, params: Json) -> Json:
        if "unit_amount" not in params:
            raise malformed("Missing required param: unit_amount.", "unit_amount")
        found = self.put(objects.price(self.now(), params))
        self.emit("price.created", found)
        return found

    # -- webhook endpoints -----------------------------------------------------------------
    def webhook_endpoints_create(self, params: Json) -> Json:
        if not params.get("url"):
            raise malformed("Missing required param: url.", "url")
        if not params.get("enabled_events"):
            raise malformed("Missing required param: enabled_events.", "enabled_events")
        endpoint = self.put(_endpoint(self.now(), params))
        self.endpoint_count = len(self.all("webhook_endpoint"))
        return {**endpoint, "secret": endpoint["secret"]}

    def webhook_endpoints_update(self, endpoint_id: str, params: Json) -> Json:
        endpoint = self.get("webhook_endpoint", endpoint_id)
        for name in ("url", "enabled_events", "description"):
            if name in params:
                endpoint[name] = params[name]
        if "disabled" in params:
            endpoint["status"] = "disabled" if params["disabled"] == "true" else "enabled"
        _merge_metadata(endpoint, params)
        return public_endpoint(endpoint)

    def webhook_endpoints_delete(self, endpoint_id: str) -> Json:
        self.get("webhook_endpoint", endpoint_id)
        del self.objects[endpoint_id]
        self.endpoint_count = len(self.all("webhook_endpoint"))
        return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}


def public_endpoint(endpoint: Json) -> Json:
    """A webhook endpoint as Stripe shows it after creation: without its secret."""
    return {key: value for key, value in endpoint.items() if key != "secret"}


def _merge_metadata(obj: Json, params: Json) -> None:
    """Stripe's metadata update: keys merge, an empty value unsets a key, `metadata=""`
    unsets all."""
    if "metadata" not in params:
        return
    if params["metadata"] in ("", None):
        obj["metadata"] = {}
        return
    for key, value in params["metadata"].items():
        if value in ("", None):
            obj["metadata"].pop(key, None)
        else:
            obj["metadata"][key] = str(value)


def _setup_intent(now: int, params: Json) -> Json:
    intent_id = new_id("seti")
    return {
        "id": intent_id,
        "object": "setup_intent",
        "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
        "created": now,
        "customer": params.get("customer"),
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "payment_method": params.get("payment_method"),
        "payment_method_types": ["card"],
        "status": "requires_confirmation"
        if params.get("payment_method")
        else "requires_payment_method",
        "usage": params.get("usage", "off_session"),
    }


def _checkout_session(now: int, params: Json, intent_id: str) -> Json:
    session_id = f"cs_test_{secrets.token_hex(24)}"
    return {
        "id": session_id,
        "object": "checkout.session",
        "cancel_url": params.get("cancel_url"),
        "client_reference_id": params.get("client_reference_id"),
        "created": now,
        "currency": params.get("currency"),
        "customer": params.get("customer"),
        "expires_at": now + 86400,
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "mode": "setup",
        "payment_method_types": params.get("payment_method_types") or ["card"],
        "payment_status": "no_payment_required",
        "setup_intent": intent_id,
        "status": "open",
        "success_url": params.get("success_url"),
        "url": None,
    }


def _endpoint(now: int, params: Json) -> Json:
    return {
        "id": new_id("we"),
        "object": "webhook_endpoint",
        "api_version": params.get("api_version"),
        "created": now,
        "description": params.get("description"),
        "enabled_events": list(params["enabled_events"]),
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "secret": f"whsec_{secrets.token_hex(16)}",
        "status": "enabled",
        "url": params["url"],
    }
