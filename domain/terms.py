"""The terms of a subscription: what the customer pays for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Terms:
    """Seats, billing interval and plan tier: two subscriptions (or an upgrade's starting
    point and a subscription) with equal terms cost the same."""

    seats: int
    interval: str
    tier: str
