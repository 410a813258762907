"""JSON shapes of a receipt and of an organization's upgrade history."""

from __future__ import annotations

from typing import Any

from api.serializers import timestamp as _ts
from api.serializers.upgrades import summary
from domain.money import format_money
from domain.payment_methods import CardOnFile, Receipt
from services.receipts import HistoryEntry

SUBMITTED_BY = "submitted by "


def receipt(r: Receipt | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "invoice_id": r.invoice_id,
        "number": r.number,
        "amount_paid": r.amount_paid,
        "amount_paid_text": format_money(r.amount_paid, r.currency),
        "currency": r.currency,
        "paid_at": _ts(r.paid_at),
        "hosted_invoice_url": r.hosted_invoice_url,
        "invoice_pdf": r.invoice_pdf,
    }


def card(found: CardOnFile | None) -> dict[str, Any] | None:
    if found is None or found.card is None:
        return None
    c = found.card
    return {"brand": c.brand, "last4": c.last4, "exp_month": c.exp_month, "exp_year": c.exp_year}


def entry(e: HistoryEntry) -> dict[str, Any]:
    u = e.upgrade
    # The submission is the first step of the history: "submitted by <email>".
    first = u.history[0].cause if u.history else ""
    requested_by = first.removeprefix(SUBMITTED_BY) if first.startswith(SUBMITTED_BY) else None
    return summary(u) | {
        "discount_code": u.discount_code,
        "requested_by": requested_by,
        "requested_at": _ts(u.created_at),
        "receipt": receipt(e.receipt),
    }
