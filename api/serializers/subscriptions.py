"""JSON shape of a subscription."""

from __future__ import annotations

from typing import Any

from api.serializers import timestamp as _ts
from api.serializers.renewal import change
from domain.model import Subscription
from domain.renewal import ScheduledChange


def subscription(
    sub: Subscription,
    next_amount: int | None,
    currency: str | None,
    scheduled: ScheduledChange | None = None,
) -> dict[str, Any]:
    if scheduled is not None:  # the renewal bills the change's terms
        next_amount, currency = scheduled.next_invoice_amount, scheduled.currency
    return {
        "license_type": sub.license_type,
        "tier": sub.tier,
        "seats": sub.seats,
        "interval": sub.interval,
        "status": sub.status,
        "current_period_start": _ts(sub.current_period_start),
        "current_period_end": _ts(sub.current_period_end),
        "next_invoice": {
            "at": _ts(sub.current_period_end),
            "amount": next_amount,
            "currency": currency,
        },
        "upgradable": sub.upgradable,
        "offline_licenses_allowed": sub.offline_allowed,
        "scheduled_change": change(scheduled) if scheduled is not None else None,
    }
