"""Invoices and invoice items: draft → open → paid / void / uncollectible.

An invoice's total is the sum of its lines (integer minor units). Invoice items created with
`invoice=` land on that draft; without it they wait on the customer until an invoice is
created with `pending_invoice_items_behavior=include` (Stripe's default since 2022-08-01 is
`exclude`). Discounts (coupons, promotion codes) are in `promotions.py`.
"""

from __future__ import annotations

import copy

from tests.stripe_model import objects
from tests.stripe_model.base import Json, diff, invalid, malformed, new_id
from tests.stripe_model.promotions import Promotions

INVOICE_HOST = "https://invoice.stripe.com"


# Stripe's smallest amount it charges a card, in minor units (USD 0.50, EUR 0.50, …).
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "jpy": 50}


class Invoices(Promotions):
    # -- invoice items ---------------------------------------------------------------------
    def invoiceitems_create(self, params: Json) -> Json:
        customer_id = params.get("customer")
        if not customer_id:
            raise malformed("Missing required param: customer.", "customer")
        self.get("customer", customer_id, "customer")
        price = self.get("price", params["price"], "price") if params.get("price") else None
        amount = _item_amount(params, price)
        invoice = None
        if params.get("invoice"):
            invoice = self.get("invoice", params["invoice"], "invoice")
            if invoice["status"] != "draft":
                raise invalid("You can only add invoice items to draft invoices.", param="invoice")
            if invoice["customer"] != customer_id:
                raise invalid("The invoice belongs to another customer.", param="invoice")
        item = self.put(objects.invoice_item(self.now(), params, amount, price))
        self.emit("invoiceitem.created", item)
        if invoice is not None:
            self._add_line(invoice, item, "invoice_item")
        return item

    def pending_items(self, customer_id: str) -> list[Json]:
        return [
            item
            for item in self.all("invoiceitem")
            if item["customer"] == customer_id and item["invoice"] is None
        ]

    # -- invoices --------------------------------------------------------------------------
    def invoices_create(self, params: Json) -> Json:
        customer_id = params.get("customer")
        if not customer_id:
            raise malformed("Missing required param: customer.", "customer")
        customer = self.get("customer", customer_id, "customer")
        behaviour = params.get("pending_invoice_items_behavior", "exclude")
        if behaviour not in ("exclude", "include"):
            raise invalid("Invalid pending_invoice_items_behavior.", param=behaviour)
        currency = params.get("currency") or customer.get("currency") or "usd"
        discounts = self._discounts_for(customer_id, currency, params)
        invoice = self.put(objects.invoice(self.now(), customer, params))
        self._attach_discounts(invoice, discounts)
        if behaviour == "include":
            for item in self.pending_items(customer_id):
                item["invoice"] = invoice["id"]
                self._add_line(invoice, item, "invoice_item")
        self.emit("invoice.created", invoice)
        return invoice

    def _add_line(self, invoice: Json, source: Json, kind: str) -> None:
        invoice["lines"]["data"].append(objects.line_item(invoice["id"], source, kind))
        self._retotal(invoice)

    def _retotal(self, invoice: Json) -> None:
        subtotal = sum(line["amount"] for line in invoice["lines"]["data"])
        total = subtotal - self._discount_lines(invoice)
        invoice.update(subtotal=subtotal, total=total, amount_due=max(total, 0))
        invoice["amount_remaining"] = invoice["amount_due"] - invoice["amount_paid"]
        periods = [line["period"] for line in invoice["lines"]["data"]]
        if periods:
            invoice["period_start"] = min(period["start"] for period in periods)
            invoice["period_end"] = max(period["end"] for period in periods)

    def invoices_update(self, invoice_id: str, params: Json) -> Json:
        invoice = self.get("invoice", invoice_id)
        before = copy.deepcopy(invoice)
        if invoice["status"] != "draft" and set(params) - {"metadata", "auto_advance"}:
            raise invalid("A finalized invoice can only have its metadata updated.")
        for name in ("description", "default_payment_method"):
            if name in params:
                invoice[name] = params[name] or None
        if "auto_advance" in params:
            invoice["auto_advance"] = params["auto_advance"] == "true"
        for key, value in (params.get("metadata") or {}).items():
            if value in ("", None):
                invoice["metadata"].pop(key, None)
            else:
                invoice["metadata"][key] = value
        self._emit_update(invoice, before)
        return invoice

    def _emit_update(self, invoice: Json, before: Json) -> None:
        if invoice != before:
            self.emit("invoice.updated", invoice, diff(before, invoice))

    def invoices_finalize(self, invoice_id: str, params: Json) -> Json:
        invoice = self.get("invoice", invoice_id)
        if invoice["status"] != "draft":
            raise invalid(
                "This invoice is already finalized, you can't re-finalize a non-draft invoice."
            )
        self._check_discounts(invoice, finalizing=True)
        customer = self.get("customer", invoice["customer"])
        sequence = customer["next_invoice_sequence"]
        customer["next_invoice_sequence"] = sequence + 1
        token = new_id("test")[5:]
        invoice.update(
            status="open",
            number=f"{customer['invoice_prefix']}-{sequence:04d}",
            hosted_invoice_url=self.hosted(f"/i/{invoice_id}/{token}", INVOICE_HOST),
            invoice_pdf=self.hosted(f"/i/{invoice_id}/{token}/pdf", INVOICE_HOST),
        )
        if "auto_advance" in params:
            invoice["auto_advance"] = params["auto_advance"] == "true"
        invoice["status_transitions"]["finalized_at"] = self.now()
        small = self._apply_balance(invoice, customer)
        if invoice["amount_due"] > 0 and not small:
            self._open_payment(invoice)
        self.emit("invoice.finalized", invoice)
        if invoice["amount_due"] == 0 or small:
            self._mark_paid(invoice)
        return invoice

    def _apply_balance(self, invoice: Json, customer: Json) -> bool:
        """Stripe takes the customer's credit balance (a negative `balance`) before it
        charges; an amount due below the currency's minimum charge is not charged: the
        invoice is marked paid and the amount added to the customer's balance, owed with the
        next invoice. True for such a small invoice."""
        starting = int(customer.get("balance") or 0)
        applied = min(-starting, invoice["amount_due"]) if starting < 0 else 0
        invoice["starting_balance"] = starting
        invoice["amount_due"] -= applied
        customer["balance"] = starting + applied
        small = 0 < invoice["amount_due"] < MINIMUM_CHARGE.get(invoice["currency"], 50)
        if small:
            customer["balance"] += invoice["amount_due"]
        invoice["amount_remaining"] = 0 if small else invoice["amount_due"]
        invoice["ending_balance"] = customer["balance"]
        return small

    def _open_payment(self, invoice: Json) -> None:
        """Stripe makes one PaymentIntent per invoice when it is finalized."""
        raise NotImplementedError

    def _mark_paid(self, invoice: Json) -> None:
        invoice.update(status="paid", amount_remaining=0)
        invoice["status_transitions"]["paid_at"] = self.now()
        self._redeem(invoice)
        self.emit("invoice.paid", invoice)
        self.emit("invoice.payment_succeeded", invoice)
        self._on_invoice_paid(invoice)

    def _on_invoice_paid(self, invoice: Json) -> None:
        """Subscriptions react (an unpaid subscription becomes active)."""

    def invoices_void(self, invoice_id: str, params: Json) -> Json:
        invoice = self.get("invoice", invoice_id)
        if invoice["status"] not in ("open", "uncollectible"):
            raise invalid(
                f"You can only void open or uncollectible invoices; this one is "
                f"{invoice['status']}.",
            )
        invoice["status"] = "void"
        invoice["status_transitions"]["voided_at"] = self.now()
        for payment in invoice["payments"]["data"]:
            if payment["status"] == "open":
                payment["status"] = "canceled"
                self._cancel_intent(payment["payment"]["payment_intent"])
        self.emit("invoice.voided", invoice)
        return invoice

    def _cancel_intent(self, intent_id: str) -> None:
        intent = self.get("payment_intent", intent_id)
        intent.update(status="canceled", canceled_at=self.now(), next_action=None)
        self.emit("payment_intent.canceled", intent)

    def invoices_mark_uncollectible(self, invoice_id: str, params: Json) -> Json:
        invoice = self.get("invoice", invoice_id)
        if invoice["status"] != "open":
            raise invalid("You can only mark open invoices as uncollectible.")
        invoice["status"] = "uncollectible"
        invoice["status_transitions"]["marked_uncollectible_at"] = self.now()
        self.emit("invoice.marked_uncollectible", invoice)
        return invoice

    def invoices_delete(self, invoice_id: str) -> Json:
        invoice = self.get("invoice", invoice_id)
        if invoice["status"] != "draft":
            raise invalid("You can only delete draft invoices.")
        del self.objects[invoice_id]
        for item in self.all("invoiceitem"):
            if item["invoice"] == invoice_id:
                del self.objects[item["id"]]
        self.emit("invoice.deleted", invoice)
        return {"id": invoice_id, "object": "invoice", "deleted": True}


def _item_amount(params: Json, price: Json | None) -> int:
    """`amount`, or `unit_amount` × `quantity`, or the price's unit amount × `quantity`."""
    try:
        quantity = int(params.get("quantity") or 1)
        if "amount" in params:
            return int(params["amount"])
        if "unit_amount" in params:
            return int(params["unit_amount"]) * quantity
    except (TypeError, ValueError):
        raise invalid("Invalid integer amount.", param="amount") from None
    if price is not None:
        return int(price["unit_amount"]) * quantity
    raise malformed("Missing required param: amount, price or unit_amount.", "amount")
