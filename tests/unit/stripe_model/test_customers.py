"""The fake Stripe's customers and cards: Checkout in setup mode, Stripe's test payment
methods, the default payment method, and the hosted pages a browser test can click."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest
import stripe

NOW = 1641859200  # 2022-01-11T00:00:00Z


def open_invoice(client: stripe.StripeClient, customer: str, amount: int = 2500) -> str:
    invoice = client.v1.invoices.create({"customer": customer, "auto_advance": False})
    client.v1.invoice_items.create({"customer": customer, "invoice": invoice.id, "amount": amount})
    return str(client.v1.invoices.finalize_invoice(invoice.id).id)


def pay(client: stripe.StripeClient, invoice_id: str) -> str:
    return str(client.v1.invoices.pay(invoice_id, {"off_session": True}).status)


def press(url: str, **form: str) -> tuple[int, str]:
    """Submit a hosted page's form; the status and where it sends the browser."""
    data = urllib.parse.urlencode(form).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, data=data) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


def test_checkout_in_setup_mode_gives_the_customer_a_card_to_make_default(state, client) -> None:
    customer = state.create_customer(behaviour=None)["id"]
    session = client.v1.checkout.sessions.create(
        {
            "mode": "setup",
            "customer": customer,
            "currency": "usd",
            "success_url": "https://example.test/done",
        }
    )
    state.complete_checkout(session.id)
    intent = client.v1.setup_intents.retrieve(str(session.setup_intent))
    client.v1.customers.update(
        customer, {"invoice_settings": {"default_payment_method": str(intent.payment_method)}}
    )

    assert pay(client, open_invoice(client, customer)) == "paid"
    assert state.events_of("checkout.session.completed")[0]["data"]["object"]["status"] == (
        "complete"
    )


def test_stripe_test_payment_methods_attach_with_their_behaviour(state, client) -> None:
    customer = state.create_customer(behaviour=None)["id"]
    pm = client.v1.payment_methods.attach("pm_card_chargeDeclined", {"customer": customer})
    client.v1.customers.update(customer, {"invoice_settings": {"default_payment_method": pm.id}})
    with pytest.raises(stripe.CardError):
        pay(client, open_invoice(client, customer))
    assert client.v1.payment_methods.retrieve(pm.id).customer == customer


def test_the_hosted_checkout_page_adds_the_card_and_sends_the_browser_back(state, client) -> None:
    customer = state.create_customer(behaviour=None)["id"]
    session = client.v1.checkout.sessions.create(
        {"mode": "setup", "customer": customer, "success_url": "https://example.test/done"}
    )
    assert session.url.startswith(state.base_url)

    assert press(session.url, behaviour="requires_action") == (303, "https://example.test/done")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"
    [card] = client.v1.payment_methods.list({"customer": customer}).data
    assert card.card.last4 == "3155"


def test_the_hosted_invoice_page_completes_3d_secure(state, client) -> None:
    customer = state.create_customer("requires_action")["id"]
    invoice_id = open_invoice(client, customer)
    with pytest.raises(stripe.CardError):
        pay(client, invoice_id)

    url = state.get("invoice", invoice_id)["hosted_invoice_url"]
    assert press(url, result="ok")[0] == 200

    assert state.get("invoice", invoice_id)["status"] == "paid"
    assert state.captured(invoice=invoice_id) == 2500
