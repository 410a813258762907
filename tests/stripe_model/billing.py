"""Billing a subscription: its period, prorations, invoices for a period, and how a
subscription's status follows its invoices (an unpaid renewal makes it `past_due`, paying
it makes it `active` again)."""

from __future__ import annotations

import copy

from tests.stripe_model import objects
from tests.stripe_model.base import Json, StripeApiError, diff
from tests.stripe_model.customers import Customers
from tests.stripe_model.payments import Payments

UNPAID = ("past_due", "incomplete", "unpaid")


class SubscriptionBilling(Payments, Customers):
    @staticmethod
    def _interval(sub: Json) -> str:
        return str(sub["items"]["data"][0]["price"]["recurring"]["interval"])

    @staticmethod
    def _set_period(sub: Json, start: int, end: int) -> None:
        for item in sub["items"]["data"]:
            item.update(current_period_start=start, current_period_end=end)

    @staticmethod
    def period(sub: Json) -> tuple[int, int]:
        item = sub["items"]["data"][0]
        return int(item["current_period_start"]), int(item["current_period_end"])

    def _unused(self, sub: Json, now: int, sign: int = -1) -> list[Json]:
        """Proration items for the rest of the period: a credit for the old items
        (`sign=-1`) or a charge for the new ones, by the second, rounded to the cent."""
        start, end = self.period(sub)
        if sub["status"] == "trialing" or not start < now < end:
            return []
        found = []
        for item in sub["items"]["data"]:
            total = item["price"]["unit_amount"] * item["quantity"]
            amount = sign * ((total * (end - now) * 2 + (end - start)) // (2 * (end - start)))
            label = "Unused time on" if sign < 0 else "Remaining time on"
            found.append(
                {
                    "amount": amount,
                    "currency": item["price"]["currency"],
                    "description": f"{label} {item['quantity']} × {item['price']['id']}",
                    "period": {"start": now, "end": end},
                    "proration": True,
                    "price": item["price"]["id"],
                }
            )
        return found

    def _add_pending(self, sub: Json, prorations: list[Json]) -> None:
        for line in prorations:
            params = {key: value for key, value in line.items() if key != "price"}
            params.update(customer=sub["customer"], subscription=sub["id"])
            item = self.put(objects.invoice_item(self.now(), params, line["amount"], None))
            self.emit("invoiceitem.created", item)

    def _pending_invoice(self, sub: Json, reason: str, prorations: list[Json]) -> None:
        self._add_pending(sub, prorations)
        self._invoice_period(sub, reason, self._pending_for(sub))

    def _invoice_pending_only(self, sub: Json) -> None:
        pending = self._pending_for(sub)
        if pending:
            self._invoice(sub, "subscription_update", [], pending)

    def _pending_for(self, sub: Json) -> list[Json]:
        return [
            item
            for item in self.pending_items(sub["customer"])
            if ((item["parent"] or {}).get("subscription_details") or {}).get("subscription")
            in (None, sub["id"])
        ]

    def _invoice_period(self, sub: Json, reason: str, pending: list[Json]) -> None:
        """Invoice the current period of every item (plus pending items) and pay it."""
        start, end = self.period(sub)
        lines = [
            {
                "amount": item["price"]["unit_amount"] * item["quantity"],
                "currency": item["price"]["currency"],
                "description": f"{item['quantity']} × {item['price']['id']}",
                "period": {"start": start, "end": end},
                "pricing": objects.pricing(item["price"]),
                "quantity": item["quantity"],
                "subscription": sub["id"],
                "item": item["id"],
            }
            for item in sub["items"]["data"]
        ]
        self._invoice(sub, reason, lines, pending)

    def _invoice(self, sub: Json, reason: str, lines: list[Json], pending: list[Json]) -> None:
        parent = {
            "type": "subscription_details",
            "subscription_details": {"subscription": sub["id"], "metadata": dict(sub["metadata"])},
        }
        customer = self.get("customer", sub["customer"])
        params = {"billing_reason": reason, "parent": parent, "currency": sub["currency"]}
        invoice = self.put(objects.invoice(self.now(), customer, params))
        for line in lines:
            self._add_line(invoice, line, "subscription_item")
        for item in pending:
            item["invoice"] = invoice["id"]
            self._add_line(invoice, item, "invoice_item")
        sub["latest_invoice"] = invoice["id"]
        self.emit("invoice.created", invoice)
        self.invoices_finalize(invoice["id"], {})
        if invoice["status"] == "open":
            # allow_incomplete: a failed payment leaves the invoice open, the subscription unpaid
            try:
                self.invoices_pay(invoice["id"], {"off_session": "true"})
            except StripeApiError as error:
                if error.type != "card_error":  # card errors already told the subscription
                    self._on_payment_failed(invoice)

    # -- reactions to payments -------------------------------------------------------------
    def _subscription_of(self, invoice: Json) -> Json | None:
        details = (invoice.get("parent") or {}).get("subscription_details") or {}
        found = self.objects.get(str(details.get("subscription")))
        return found if found is not None and found.get("object") == "subscription" else None

    def _on_invoice_paid(self, invoice: Json) -> None:
        sub = self._subscription_of(invoice)
        if sub is not None and sub["status"] in UNPAID:
            before = copy.deepcopy(sub)
            sub["status"] = "active"
            self.emit_updated(sub, before)

    def _on_payment_failed(self, invoice: Json) -> None:
        sub = self._subscription_of(invoice)
        if sub is not None and sub["status"] == "active":
            before = copy.deepcopy(sub)
            sub["status"] = "past_due"
            self.emit_updated(sub, before)

    def emit_updated(self, sub: Json, before: Json) -> None:
        if sub == before:
            return
        if sub["status"] == "canceled" and before["status"] != "canceled":
            self.emit("customer.subscription.deleted", sub)
        else:
            self.emit("customer.subscription.updated", sub, diff(before, sub))
