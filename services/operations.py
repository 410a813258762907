"""What an operator runs and reads: Stripe onboarding (the webhook endpoint) and the
operator pages' view of the inbox, dead events and reconciliation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from config.events import HANDLED_EVENT_TYPES, STRIPE_API_VERSION
from config.settings import Settings


class WebhookEndpoints(Protocol):
    def webhook_endpoints(self) -> list[dict[str, Any]]: ...

    def create_webhook_endpoint(
        self, url: str, events: list[str], api_version: str
    ) -> dict[str, Any]: ...

    def update_webhook_endpoint(
        self, endpoint_id: str, url: str, events: list[str]
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class WebhookSetup:
    endpoint_id: str
    created: bool
    secret: str | None  # shown by Stripe once, on creation
    api_version: str | None  # the version the endpoint renders events in


def stripe_webhooks(settings: Settings) -> WebhookEndpoints:
    from adapters.stripe_gateway import StripeGateway

    return StripeGateway(settings.stripe_api_key, settings.stripe_api_base)


def setup_webhook(stripe: WebhookEndpoints, url: str) -> WebhookSetup:
    """Create the endpoint for `url`, or bring the one Stripe has for it up to date: exactly
    the event types seatflow handles, in the API version it parses."""
    events = sorted(HANDLED_EVENT_TYPES)
    found = next((e for e in stripe.webhook_endpoints() if e.get("url") == url), None)
    if found is None:
        made = stripe.create_webhook_endpoint(url, events, STRIPE_API_VERSION)
        return WebhookSetup(str(made["id"]), True, made.get("secret"), made.get("api_version"))
    stripe.update_webhook_endpoint(str(found["id"]), url, events)
    return WebhookSetup(str(found["id"]), False, None, found.get("api_version"))
