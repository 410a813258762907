"""Whose events this service applies: one Stripe mode and one account."""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import Settings
from inbox.events import IncomingEvent


def _mode(live: bool) -> str:
    return "live mode" if live else "test mode"


@dataclass(frozen=True)
class Origin:
    """The Stripe mode (from the API key) and Connect account (STRIPE_ACCOUNT; None: the
    platform's own) this service acts for; an event of any other is never applied."""

    livemode: bool = False
    account: str | None = None

    @classmethod
    def of(cls, settings: Settings) -> Origin:
        """The mode of the API key and the account of STRIPE_ACCOUNT."""
        return cls(settings.livemode, settings.stripe_account or None)

    def refuses(self, event: IncomingEvent) -> str | None:
        """Why `event` is not ours, or None if it is."""
        if event.livemode != self.livemode:
            return (
                f"not applied: a {_mode(event.livemode)} event, and this service runs in "
                f"{_mode(self.livemode)} (from its API key)"
            )
        if event.account != self.account:
            return (
                f"not applied: an event of account {event.account or '(platform)'}, and this "
                f"service acts for {self.account or 'the platform account'} (STRIPE_ACCOUNT)"
            )
        return None
