"""JSON shape of a change scheduled for the renewal."""

from __future__ import annotations

from typing import Any

from api.serializers import timestamp as _ts
from domain.money import format_money
from domain.renewal import ScheduledChange


def change(found: ScheduledChange) -> dict[str, Any]:
    return {
        "id": found.id,
        "license_type": found.license_type,
        "state": found.state,
        "pending": found.pending,
        "from": {
            "seats": found.from_seats,
            "interval": found.from_interval,
            "tier": found.from_tier,
        },
        "to": {"seats": found.seats, "interval": found.interval, "tier": found.tier},
        "effective_at": _ts(found.effective_at),
        # The renewal invoice bills the new terms, nothing prorated; nothing moves now.
        "next_invoice": {
            "at": _ts(found.effective_at),
            "amount": found.next_invoice_amount,
            "currency": found.currency,
        },
        "next_invoice_text": format_money(found.next_invoice_amount, found.currency),
        "charged_now": 0,
        "requested_by": found.requested_by,
        "cause": found.cause,
        "created_at": _ts(found.created_at),
        "updated_at": _ts(found.updated_at),
        "applied_at": _ts(found.applied_at),
    }
