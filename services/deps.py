"""What handlers need besides the unit of work: a clock, the billing gateway, policy values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from adapters.license_signer import LicenseSigner
from config.settings import Settings
from domain.ports import BillingGateway, Clock
from inbox.origin import Origin


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    gateway: BillingGateway
    clock: Clock
    signer: LicenseSigner
    estimate_ttl: timedelta = timedelta(minutes=15)
    unpaid_after: timedelta = timedelta(hours=23)
    license_grace: timedelta = timedelta(days=7)
    # Re-read each object from Stripe before applying it (a leaked signing secret then
    # cannot forge state), and break same-second ties between events the same way.
    verify_by_fetch: bool = False
    tie_break_by_fetch: bool = False
    # The Stripe mode and account whose events are applied; any other's are ignored.
    origin: Origin = field(default_factory=Origin)


def build_deps(settings: Settings) -> Deps:
    from adapters.license_signer import load_signer
    from adapters.read_budget import SharedRateLimiter
    from adapters.stripe_gateway import StripeGateway

    shared = settings.read_budget_url
    return Deps(
        gateway=StripeGateway(
            settings.stripe_api_key,
            settings.stripe_api_base,
            read_rate=settings.stripe_read_rate,
            reads=SharedRateLimiter(shared, settings.stripe_read_rate) if shared else None,
        ),
        clock=SystemClock(),
        estimate_ttl=timedelta(seconds=settings.estimate_ttl_seconds),
        unpaid_after=timedelta(hours=settings.unpaid_upgrade_hours),
        signer=load_signer(settings),
        license_grace=timedelta(days=settings.license_grace_days),
        verify_by_fetch=settings.stripe_verify_by_fetch,
        tie_break_by_fetch=bool(settings.stripe_api_base) or settings.stripe_verify_by_fetch,
        origin=Origin.of(settings),
    )
