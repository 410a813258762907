"""Subscriptions: items with a price and quantity, the billing period on each item (API
2025-03-31 and later), trials and `proration_behavior`. Renewals and dashboard edits are in
`cycles.py`, invoicing in `billing.py`.

What an API update does to money, as Stripe does it:
- same interval, other price or quantity: prorations for the rest of the period become
  pending invoice items (`create_prorations`, the default), are invoiced and paid at once
  (`always_invoice`), or are not made (`none`);
- another interval (month → year) outside a trial: the billing cycle restarts now and the
  new price is invoiced and paid at once, whatever `proration_behavior` says (it only
  decides the credit for the unused old period);
- `trial_end` in the future: status `trialing`, the period runs to `trial_end` and nothing
  is invoiced until then; `trial_end=now` ends a trial and invoices the new period.
Every change emits `customer.subscription.updated` with `data.previous_attributes`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import partial
from typing import Any

from tests.stripe_model import objects
from tests.stripe_model.base import Json, add_interval, invalid, new_id
from tests.stripe_model.billing import SubscriptionBilling

PRORATIONS = ("create_prorations", "none", "always_invoice")


class Subscriptions(SubscriptionBilling):
    def create_subscription(
        self,
        customer: str,
        price: str = "price_seat_month",
        *,
        interval: str = "month",
        unit_amount: int = 2000,
        quantity: int = 1,
        period_start: int | None = None,
        trial_end: int | None = None,
        metadata: dict[str, str] | None = None,
        status: str | None = None,
    ) -> Json:
        """An existing subscription (nothing is invoiced); its price is made if unknown."""
        with self.lock:
            if price not in self.objects:
                self.create_price(price, unit_amount=unit_amount, interval=interval)
            start = self.now() if period_start is None else period_start
            sub = self._new_subscription(customer, [(price, quantity)], start, metadata or {})
            if trial_end is not None:
                self._start_trial(sub, trial_end, start)
            if status is not None:
                sub["status"] = status
            self.emit("customer.subscription.created", sub)
            return sub

    def _new_subscription(
        self, customer: str, items: list[tuple[str, int]], start: int, metadata: Json
    ) -> Json:
        self.get("customer", customer, "customer")
        sub_id = new_id("sub")
        sub: Json = {
            "id": sub_id,
            "object": "subscription",
            "billing_cycle_anchor": start,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "collection_method": "charge_automatically",
            "created": self.now(),
            "currency": "usd",
            "customer": customer,
            "default_payment_method": None,
            "description": None,
            "ended_at": None,
            "items": objects.listing([], f"/v1/subscription_items?subscription={sub_id}"),
            "latest_invoice": None,
            "livemode": False,
            "metadata": dict(metadata),
            "pending_update": None,
            "schedule": None,
            "start_date": start,
            "status": "active",
            "trial_end": None,
            "trial_start": None,
        }
        for price_id, quantity in items:
            self._add_item(sub, price_id, quantity)
        self._set_period(sub, start, add_interval(start, self._interval(sub)))
        sub["currency"] = sub["items"]["data"][0]["price"]["currency"]
        return self.put(sub)

    def _add_item(self, sub: Json, price_id: str, quantity: int) -> None:
        price = self._recurring_price(price_id)
        sub["items"]["data"].append(
            {
                "id": new_id("si"),
                "object": "subscription_item",
                "created": self.now(),
                "current_period_start": None,
                "current_period_end": None,
                "discounts": [],
                "metadata": {},
                "price": copy.deepcopy(price),
                "quantity": quantity,
                "subscription": sub["id"],
                "tax_rates": [],
            }
        )

    def _recurring_price(self, price_id: str) -> Json:
        price = self.get("price", price_id, "items[0][price]")
        if not price.get("recurring"):
            raise invalid(f"The price {price_id} is not recurring.", param="items[0][price]")
        return price

    def _start_trial(self, sub: Json, trial_end: int, start: int) -> None:
        if sub["status"] != "trialing":
            sub["trial_start"] = start
        sub.update(status="trialing", trial_end=trial_end, billing_cycle_anchor=trial_end)
        self._set_period(sub, start, trial_end)

    # -- the API ---------------------------------------------------------------------------
    def subscriptions_create(self, params: Json) -> Json:
        items = [(i["price"], int(i.get("quantity", 1))) for i in params.get("items") or []]
        if not items:
            raise invalid("Missing required param: items.", param="items")
        sub = self._new_subscription(
            str(params.get("customer")), items, self.now(), params.get("metadata") or {}
        )
        sub["default_payment_method"] = params.get("default_payment_method")
        trial_end = params.get("trial_end")
        if trial_end not in (None, "now"):
            self._start_trial(sub, self._future(trial_end), self.now())
        self.emit("customer.subscription.created", sub)
        if sub["status"] != "trialing":
            sub["status"] = "incomplete"
            self._invoice_period(sub, "subscription_create", [])
        return sub

    def subscriptions_update(self, sub_id: str, params: Json) -> Json:
        sub = self.get("subscription", sub_id)
        if sub["status"] == "canceled":
            raise invalid("A canceled subscription can only update its metadata.")
        if {"cancel_at_period_end", "cancel_at"} & set(params):
            refuse_if_scheduled(sub)
        proration = params.get("proration_behavior", "create_prorations")
        if proration not in PRORATIONS:
            raise invalid("Invalid proration_behavior.", param="proration_behavior")
        before = copy.deepcopy(sub)
        self._apply_items(sub, params.get("items") or [])
        self._apply_fields(sub, params)
        bill = self._reprice(sub, before, params, proration)
        self.emit_updated(sub, before)
        if bill is not None:
            bill()
        return sub

    def _apply_items(self, sub: Json, changes: list[Json]) -> None:
        for index, change in enumerate(changes):
            if change.get("id"):
                item = self._item(sub, change["id"], index)
                if change.get("deleted") == "true":
                    sub["items"]["data"].remove(item)
                    continue
                if change.get("price"):
                    item["price"] = copy.deepcopy(self._recurring_price(change["price"]))
                if "quantity" in change:
                    item["quantity"] = _quantity(change["quantity"], index)
            elif change.get("price"):
                self._add_item(sub, change["price"], _quantity(change.get("quantity", 1), index))
                start, end = self.period(sub)
                self._set_period(sub, start, end)
            else:
                raise invalid("An item needs an id or a price.", param=f"items[{index}]")
        if not sub["items"]["data"]:
            raise invalid("A subscription needs at least one item.", param="items")

    def _item(self, sub: Json, item_id: str, index: int) -> Json:
        for item in sub["items"]["data"]:
            if item["id"] == item_id:
                found: Json = item
                return found
        raise invalid(f"No such subscription item: '{item_id}'", param=f"items[{index}][id]")

    def _apply_fields(self, sub: Json, params: Json) -> None:
        if "cancel_at_period_end" in params:
            sub["cancel_at_period_end"] = params["cancel_at_period_end"] == "true"
        for name in ("default_payment_method", "description"):
            if name in params:
                sub[name] = params[name] or None
        for key, value in (params.get("metadata") or {}).items():
            if value in ("", None):
                sub["metadata"].pop(key, None)
            else:
                sub["metadata"][key] = str(value)

    def _future(self, value: Any) -> int:
        try:
            moment = int(value)
        except (TypeError, ValueError):
            raise invalid("Invalid timestamp.", param="trial_end") from None
        if moment <= self.now():
            raise invalid(
                "Invalid timestamp: must be an integer Unix timestamp in the future.",
                param="trial_end",
            )
        return moment

    def _reprice(
        self, sub: Json, before: Json, params: Json, proration: str
    ) -> Callable[[], None] | None:
        """Apply the change's effect on the cycle; return the invoicing it calls for (run
        after `customer.subscription.updated` is emitted), if any."""
        now = self.now()
        trial_end = params.get("trial_end")
        credit = [] if proration == "none" else self._unused(before, now)
        if trial_end == "now":
            sub.update(status="active", trial_end=now, billing_cycle_anchor=now)
            self._set_period(sub, now, add_interval(now, self._interval(sub)))
            return partial(self._pending_invoice, sub, "subscription_update", credit)
        if trial_end is not None:
            self._start_trial(sub, self._future(trial_end), now)
            self._add_pending(sub, credit)
            return None
        if sub["status"] == "trialing" or _charges(sub) == _charges(before):
            return None
        restart = params.get("billing_cycle_anchor") == "now"
        if restart or self._interval(sub) != self._interval(before):
            sub["billing_cycle_anchor"] = now
            self._set_period(sub, now, add_interval(now, self._interval(sub)))
            return partial(self._pending_invoice, sub, "subscription_update", credit)
        if proration == "none":
            return None
        self._add_pending(sub, credit + self._unused(sub, now, sign=1))
        if proration == "always_invoice":
            return partial(self._invoice_pending_only, sub)
        return None


def refuse_if_scheduled(sub: Json) -> None:
    """A subscription managed by a schedule takes its cancellation from the schedule."""
    if sub.get("schedule"):
        raise invalid(
            f"The subscription is managed by the subscription schedule `{sub['schedule']}`, "
            "and updating any cancelation behavior directly is not allowed. Please update "
            "the schedule instead."
        )


def _charges(sub: Json) -> list[tuple[str, int]]:
    return [(item["price"]["id"], item["quantity"]) for item in sub["items"]["data"]]


def _quantity(value: Any, index: int) -> int:
    try:
        quantity = int(value)
    except (TypeError, ValueError):
        quantity = -1
    if quantity < 0:
        raise invalid("Invalid non-negative integer.", param=f"items[{index}][quantity]")
    return quantity
