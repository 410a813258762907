"""What handlers need besides the unit of work: a clock, the billing gateway, policy values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.ports import BillingGateway, Clock


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    gateway: BillingGateway
    clock: Clock
    estimate_ttl: timedelta = timedelta(minutes=15)
    unpaid_after: timedelta = timedelta(hours=23)
