"""What handlers need besides the unit of work: a clock, the billing gateway, the door
Stripe's objects come in through, policy values (built from the settings by the composition
root, `bootstrap`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain.ports import BillingGateway, Clock, Signer, StripeDoor
from inbox.origin import Origin


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    gateway: BillingGateway
    door: StripeDoor
    clock: Clock
    signer: Signer
    estimate_ttl: timedelta = timedelta(minutes=15)
    unpaid_after: timedelta = timedelta(hours=23)
    license_grace: timedelta = timedelta(days=7)
    # Break same-second ties between subscription events by reading Stripe's current state.
    tie_break_by_fetch: bool = False
    # The Stripe mode and account whose events are applied; any other's are ignored.
    origin: Origin = field(default_factory=Origin)
    # One line saying what failed in the outside world (the database, the broker, Stripe),
    # or None when the error is not such a failure (`adapters.errors.explain`).
    explain: Callable[[BaseException], str | None] = lambda _error: None
