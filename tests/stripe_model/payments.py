"""Paying invoices with the customer's card, 3D Secure, refunds, and the ledger of money.

One invoice has one PaymentIntent (made when it is finalized); every attempt is a new charge
on it. A declined or unauthenticated attempt leaves the invoice open, so it can be paid again
once the card is fixed: one invoice, one capture. Every capture and refund is a
`LedgerEntry`, so tests assert the money Stripe took, not what a caller meant to take.
"""

from __future__ import annotations

import copy

from tests.stripe_model import objects
from tests.stripe_model.base import (
    Json,
    LedgerEntry,
    StripeApiError,
    invalid,
    malformed,
    new_id,
)
from tests.stripe_model.invoices import Invoices

DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was declined.",
    "expired_card": "Your card has expired.",
}


class Payments(Invoices):
    def _open_payment(self, invoice: Json) -> None:
        intent = self.put(objects.payment_intent(self.now(), invoice, None))
        self.emit("payment_intent.created", intent)
        invoice["payments"]["data"].append(
            {
                "id": new_id("inpay"),
                "object": "invoice_payment",
                "amount_paid": None,
                "amount_requested": invoice["amount_due"],
                "created": self.now(),
                "currency": invoice["currency"],
                "invoice": invoice["id"],
                "is_default": True,
                "livemode": False,
                "payment": {"type": "payment_intent", "payment_intent": intent["id"]},
                "status": "open",
                "status_transitions": {"canceled_at": None, "paid_at": None},
            }
        )

    def invoice_intent(self, invoice_id: str) -> Json:
        """The invoice's PaymentIntent (Stripe API 2025+: via `invoice.payments`)."""
        invoice = self.get("invoice", invoice_id)
        payments = invoice["payments"]["data"]
        if not payments:
            raise invalid(f"Invoice {invoice_id} has no payment.")
        return self.get("payment_intent", payments[-1]["payment"]["payment_intent"])

    def invoices_pay(self, invoice_id: str, params: Json) -> Json:
        invoice = self.get("invoice", invoice_id)
        if invoice["status"] == "draft":
            self.invoices_finalize(invoice_id, {})
            if invoice["status"] == "paid":  # nothing was due
                return invoice
        if invoice["status"] == "paid":
            raise invalid("Invoice is already paid.", code="invoice_already_paid")
        if invoice["status"] == "void":
            raise invalid("This invoice has been voided and can no longer be paid.")
        if params.get("paid_out_of_band") == "true":
            self._mark_paid(invoice)
            return invoice
        self._check_discounts(invoice, finalizing=False)
        pm_id = self._payment_method_for(invoice, params.get("payment_method"))
        self._attempt(invoice, pm_id, off_session=params.get("off_session") == "true")
        return invoice

    def _payment_method_for(self, invoice: Json, given: str | None) -> str:
        customer = self.get("customer", invoice["customer"])
        subscription_pm = None
        parent = (invoice.get("parent") or {}).get("subscription_details") or {}
        if parent.get("subscription"):
            subscription_pm = self.get("subscription", parent["subscription"]).get(
                "default_payment_method"
            )
        found = (
            given
            or invoice.get("default_payment_method")
            or subscription_pm
            or customer["invoice_settings"]["default_payment_method"]
        )
        if not found:
            raise invalid(
                "This customer has no attached payment source or default payment method. "
                "Please consider adding a default payment method.",
            )
        pm = self.get("payment_method", found, "payment_method")
        if pm["customer"] != customer["id"]:
            raise invalid("The payment method is not attached to this customer.")
        return str(found)

    def _attempt(self, invoice: Json, pm_id: str, off_session: bool) -> None:
        intent = self.invoice_intent(invoice["id"])
        intent.update(
            payment_method=pm_id, amount=invoice["amount_remaining"], last_payment_error=None
        )
        invoice.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
        behaviour = self.behaviours.get(pm_id, "succeeds")
        if behaviour == "succeeds":
            self._capture(invoice, intent)
        elif behaviour == "declines":
            self._decline(invoice, intent, self.decline_codes.get(pm_id, "generic_decline"))
        else:
            self._require_action(invoice, intent, off_session)

    def _capture(self, invoice: Json, intent: Json) -> None:
        charge = self.put(objects.charge(self.now(), intent, paid=True, failure=None))
        amount = intent["amount"]
        intent.update(
            status="succeeded",
            amount_received=amount,
            latest_charge=charge["id"],
            next_action=None,
        )
        self.ledger.append(
            LedgerEntry(
                "capture",
                amount,
                intent["currency"],
                invoice["customer"],
                invoice["id"],
                intent["id"],
                charge["id"],
                at=self.now(),
            )
        )
        payment = invoice["payments"]["data"][-1]
        payment.update(status="paid", amount_paid=amount)
        payment["status_transitions"]["paid_at"] = self.now()
        invoice["amount_paid"] += amount
        self.emit("charge.succeeded", charge)
        self.emit("payment_intent.succeeded", intent)
        self._mark_paid(invoice)

    def _decline(self, invoice: Json, intent: Json, code: str) -> None:
        message = DECLINE_MESSAGES.get(code, "Your card was declined.")
        charge = self.put(
            objects.charge(self.now(), intent, paid=False, failure=("card_declined", message))
        )
        error = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": code,
            "message": message,
            "charge": charge["id"],
            "payment_method": intent["payment_method"],
        }
        intent.update(
            status="requires_payment_method", latest_charge=charge["id"], last_payment_error=error
        )
        self.emit("charge.failed", charge)
        self.emit("payment_intent.payment_failed", intent)
        invoice["next_payment_attempt"] = None
        self.emit("invoice.payment_failed", invoice)
        self._on_payment_failed(invoice)
        raise StripeApiError(
            402,
            "card_error",
            message,
            code="card_declined",
            decline_code=code,
            extra={"charge": charge["id"], "payment_intent": copy.deepcopy(intent)},
        )

    def _require_action(self, invoice: Json, intent: Json, off_session: bool) -> None:
        intent.update(status="requires_action", next_action={"type": "use_stripe_sdk"})
        self.emit("payment_intent.requires_action", intent)
        self.emit("invoice.payment_action_required", invoice)
        self._on_payment_failed(invoice)
        if off_session:
            raise StripeApiError(
                402,
                "card_error",
                "Your card was declined. This transaction requires authentication.",
                code="authentication_required",
                decline_code="authentication_required",
                extra={"payment_intent": copy.deepcopy(intent)},
            )
        raise StripeApiError(
            402,
            "card_error",
            "This payment requires additional user action before it can be completed "
            "successfully. Payment can be completed using the PaymentIntent associated "
            "with the invoice.",
            code="invoice_payment_intent_requires_action",
            extra={"payment_intent": copy.deepcopy(intent)},
        )

    def _on_payment_failed(self, invoice: Json) -> None:
        """Subscriptions react (a renewal that fails makes the subscription past_due)."""

    def complete_3ds(self, invoice_id: str, succeed: bool = True) -> Json:
        """The customer authenticates on the hosted invoice page: the waiting payment is
        captured (`invoice.paid`), or, with `succeed=False`, fails authentication."""
        with self.lock:
            invoice = self.get("invoice", invoice_id)
            intent = self.invoice_intent(invoice_id)
            if intent["status"] != "requires_action" or invoice["status"] != "open":
                raise invalid(f"Invoice {invoice_id} is not waiting for authentication.")
            if succeed:
                self._check_discounts(invoice, finalizing=False)  # a payment, like any other
                self._capture(invoice, intent)
            else:
                intent.update(status="requires_payment_method", next_action=None)
                self.emit("payment_intent.payment_failed", intent)
                self.emit("invoice.payment_failed", invoice)
            return invoice

    # -- refunds ---------------------------------------------------------------------------
    def refunds_create(self, params: Json) -> Json:
        charge = self._refundable_charge(params)
        if charge["status"] != "succeeded":
            raise invalid(f"Charge {charge['id']} did not succeed: there is nothing to refund.")
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise invalid(
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = int(params.get("amount") or remaining)
        if amount <= 0 or amount > remaining:
            raise invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({remaining})",
                param="amount",
                code="amount_too_large",
            )
        refund = self.put(objects.refund(self.now(), charge, amount, params))
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        capture = next(e for e in self.ledger if e.charge == charge["id"] and e.kind == "capture")
        self.ledger.append(
            LedgerEntry(
                "refund",
                -amount,
                charge["currency"],
                charge["customer"],
                capture.invoice,
                charge["payment_intent"],
                charge["id"],
                refund=refund["id"],
                at=self.now(),
            )
        )
        self.emit("refund.created", refund)
        self.emit("charge.refunded", charge)
        return refund

    def _refundable_charge(self, params: Json) -> Json:
        if params.get("charge"):
            return self.get("charge", params["charge"], "charge")
        if params.get("payment_intent"):
            intent = self.get("payment_intent", params["payment_intent"], "payment_intent")
            if intent["status"] != "succeeded":
                raise invalid(f"PaymentIntent {intent['id']} has no successful charge to refund.")
            return self.get("charge", intent["latest_charge"])
        raise malformed("Missing required param: charge or payment_intent.", "charge")

    # -- the ledger ------------------------------------------------------------------------
    def captured(self, *, customer: str | None = None, invoice: str | None = None) -> int:
        """Minor units captured (before refunds), for a customer or an invoice, or in all."""
        return sum(e.amount for e in self._entries("capture", customer, invoice))

    def refunded(self, *, customer: str | None = None, invoice: str | None = None) -> int:
        return -sum(e.amount for e in self._entries("refund", customer, invoice))

    def captures(self, *, customer: str | None = None) -> list[LedgerEntry]:
        return self._entries("capture", customer, None)

    def _entries(self, kind: str, customer: str | None, invoice: str | None) -> list[LedgerEntry]:
        return [
            entry
            for entry in self.ledger
            if entry.kind == kind
            and (customer is None or entry.customer == customer)
            and (invoice is None or entry.invoice == invoice)
        ]
