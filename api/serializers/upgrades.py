"""JSON shapes of an estimate and an upgrade."""

from __future__ import annotations

from typing import Any

from api.serializers import timestamp as _ts
from domain.money import format_money
from domain.upgrades import Estimate, FailureKind, Upgrade, failure_kind


def discount_source(code: str | None, promotion_code_id: str | None) -> str | None:
    """Whose code the discount field named: `stripe` (a promotion code), `seatflow` (its own
    code), or None without a code."""
    if not code:
        return None
    return "stripe" if promotion_code_id else "seatflow"


def estimate(e: Estimate) -> dict[str, Any]:
    return {
        "id": e.id,
        "license_type": e.license_type,
        "current": {"seats": e.from_seats, "interval": e.from_interval, "tier": e.from_tier},
        "requested": {"seats": e.seats, "interval": e.interval, "tier": e.tier},
        "amount": e.amount,
        "currency": e.currency,
        "trial": e.trial,
        "breakdown": {
            "new_term": e.new_term,
            "old_term": e.old_term,
            "before_discount": e.before_discount,
            "discount": e.discount_amount,
            "discount_code": e.discount_code,
            "discount_source": discount_source(e.discount_code, e.promotion_code_id),
            "old_unused_minutes": e.old_unused_minutes,
            "old_total_minutes": e.old_total_minutes,
            "new_unused_minutes": e.new_unused_minutes,
            "new_total_minutes": e.new_total_minutes,
        },
        "cycle": {
            "start": _ts(e.cycle_start),
            "current_end": _ts(e.current_cycle_end),
            "new_end": _ts(e.new_cycle_end),
        },
        "next_invoice": {
            "at": _ts(e.next_invoice_at),
            "amount": e.next_invoice_amount,
            "currency": e.currency,
        },
        "computed_at": _ts(e.computed_at),
        "expires_at": _ts(e.expires_at),
        # The amounts as people read them, by the currency's exponent.
        "text": {
            "amount": format_money(e.amount, e.currency),
            "new_term": format_money(e.new_term, e.currency),
            "old_term": format_money(e.old_term, e.currency),
            "discount": format_money(e.discount_amount, e.currency),
            "next_invoice": format_money(e.next_invoice_amount, e.currency),
        },
    }


# What a customer reads about a failure that is not their card's: a plain sentence; the
# detail stays in `failure_reason` and the logs, for operators.
NOTHING_CHARGED = {
    FailureKind.STRIPE_UNAVAILABLE: "Our payment provider, Stripe, could not be reached. "
    "Nothing was charged. Please try again later.",
    FailureKind.STRIPE_REFUSED: "The payment could not be started. Nothing was charged. "
    "Please try again later; if it keeps failing, contact us.",
}
CARD_PREFIXES = ("card_error:", "invoice.payment_failed:")


def failure_message(reason: str) -> dict[str, str]:
    """The kind of a failure and the sentence a customer reads about it."""
    kind = failure_kind(reason)
    if kind in NOTHING_CHARGED:
        return {"kind": kind.value, "message": NOTHING_CHARGED[kind]}
    if kind is FailureKind.RULE:  # the rule's own sentence, without its code
        return {"kind": kind.value, "message": reason.partition(":")[2].strip()}
    for prefix in CARD_PREFIXES:
        reason = reason.removeprefix(prefix).strip()
    return {"kind": kind.value, "message": reason}


def for_customer(data: dict[str, Any]) -> dict[str, Any]:
    """An upgrade as its page shows it: failures as plain sentences, no exception text."""
    reason = data.pop("failure_reason", None)
    data["failure"] = failure_message(reason) if reason else None
    data["history"] = [
        step | {"cause": failure_message(step["cause"])["message"]}
        if step["to"] == "payment_failed"
        else step
        for step in data["history"]
    ]
    return data


def summary(u: Upgrade) -> dict[str, Any]:
    """What an upgrade is and what it cost: shared by the upgrade and the history."""
    return {
        "id": u.id,
        "state": u.state,
        "license_type": u.license_type,
        "from": {"seats": u.from_seats, "interval": u.from_interval, "tier": u.from_tier},
        "to": {"seats": u.seats, "interval": u.interval, "tier": u.tier},
        "currency": u.currency,
        "estimate_amount": u.estimate_amount,
        # What seatflow invoiced (recomputed at the charge) is due, not charged: only what
        # Stripe reported as paid for the upgrade's own invoice was charged.
        "amount_due": u.charged_amount,
        "charged_amount": u.paid_amount,
        "paid_amount": u.paid_amount,
        "estimate_drift": u.drift,
    }


def upgrade(u: Upgrade) -> dict[str, Any]:
    return summary(u) | {
        "estimate_id": u.estimate_id,
        "stripe_invoice_id": u.stripe_invoice_id,
        "failure_reason": u.failure_reason,
        "refunded_amount": u.refunded_amount,
        # The code and what it took off the amount due when the charge was priced.
        "discount": {
            "code": u.discount_code,
            "source": discount_source(u.discount_code, u.promotion_code_id),
            "amount": u.discount_amount,
        }
        if u.discount_code
        else None,
        # 3-D Secure: where the customer completes the payment (Stripe's hosted page).
        "payment_url": u.payment_url if u.state == "requires_action" else None,
        "created_at": _ts(u.created_at),
        "updated_at": _ts(u.updated_at),
        "history": [
            {"from": t.from_state, "to": t.to_state, "at": _ts(t.at), "cause": t.cause}
            for t in u.history
        ],
    }
