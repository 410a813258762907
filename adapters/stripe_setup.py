"""Setting Stripe up and the card on file: Checkout in setup mode or the Billing Portal, the
default payment method, webhook endpoints and the price list. Part of the gateway
(`StripeGateway` inherits it); it calls Stripe through the gateway's client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from adapters.payment_method_parsing import DEFAULT_CARD_KEY_PREFIX
from adapters.stripe_errors import translate_errors as _translate_errors
from domain.ports import WebhookEndpoint


class StripeSetup:
    client: Any

    def _pages(self, list_call: Any, params: Any) -> Iterator[list[dict[str, Any]]]:
        raise NotImplementedError  # the gateway's paging

    def payment_method_setup_url(
        self,
        *,
        customer_id: str,
        organization_id: str,
        return_url: str,
        cancel_url: str,
        portal: bool = False,
    ) -> str:
        """The address of a Stripe-hosted page where the customer enters a new card: a
        Checkout Session in setup mode, or (with `portal`) the Billing Portal. No card data
        passes through seatflow; the result arrives as events."""
        with _translate_errors("payment_method_setup"):
            if portal:
                session: Any = self.client.v1.billing_portal.sessions.create(
                    {"customer": customer_id, "return_url": return_url}
                )
            else:
                params: Any = {
                    "mode": "setup",
                    "customer": customer_id,
                    "currency": "usd",
                    "payment_method_types": ["card"],
                    "client_reference_id": organization_id,
                    "metadata": {"organization_id": organization_id},
                    "success_url": return_url,
                    "cancel_url": cancel_url,
                }
                session = self.client.v1.checkout.sessions.create(params)
        return str(session.url)

    def set_default_payment_method(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        subscription_ids: list[str],
        version: int,
    ) -> None:
        """The customer's invoices and each subscription are paid with this card from now on.

        Keys name the event's time too: A → B → A within Stripe's 24 h key window must set
        A again rather than replay the first answer."""
        key = f"{DEFAULT_CARD_KEY_PREFIX}{customer_id}-{payment_method_id}-{version}"
        with _translate_errors("set_default_payment_method"):
            self.client.v1.customers.update(
                customer_id,
                {"invoice_settings": {"default_payment_method": payment_method_id}},
                {"idempotency_key": f"{key}-customer"},
            )
            for subscription_id in subscription_ids:
                self.client.v1.subscriptions.update(
                    subscription_id,
                    {"default_payment_method": payment_method_id},
                    {"idempotency_key": f"{key}-{subscription_id}"},
                )

    def webhook_endpoints(self) -> list[WebhookEndpoint]:
        """Every webhook endpoint of the account (without their secrets)."""
        found: list[WebhookEndpoint] = []
        for page in self._pages(self.client.v1.webhook_endpoints.list, {"limit": 100}):
            found.extend(map(_endpoint, page))
        return found

    def create_webhook_endpoint(
        self, url: str, events: list[str], api_version: str
    ) -> WebhookEndpoint:
        """A new endpoint; Stripe shows its signing secret in this answer only."""
        params: Any = {"url": url, "enabled_events": events, "api_version": api_version}
        with _translate_errors("create_webhook_endpoint"):
            created = self.client.v1.webhook_endpoints.create(params)
        return _endpoint(created.to_dict())

    def update_webhook_endpoint(
        self, endpoint_id: str, url: str, events: list[str]
    ) -> WebhookEndpoint:
        """Its URL and event types (Stripe keeps the secret, and the API version it was
        created with)."""
        params: Any = {"url": url, "enabled_events": events, "disabled": False}
        with _translate_errors("update_webhook_endpoint"):
            updated = self.client.v1.webhook_endpoints.update(endpoint_id, params)
        return _endpoint(updated.to_dict())

    def list_prices(self, *, page_size: int = 100) -> Iterator[list[dict[str, Any]]]:
        """Every price with its metadata, one page at a time (the catalog reads its own)."""
        yield from self._pages(self.client.v1.prices.list, {"limit": page_size})


def _endpoint(data: dict[str, Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=str(data["id"]),
        url=str(data.get("url") or ""),
        api_version=data.get("api_version"),
        secret=data.get("secret"),
    )
