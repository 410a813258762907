"""The payment-method, receipt and history pages and their API over Flask's test client."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from api import create_app
from cli import samples
from config.database import make_engine
from services import stripe_events
from services.upgrades import charge as upgrade_charge
from tests.builders import build_world, invoice_event, store_event, subscription_event
from tests.conftest import stripe_fixture
from tests.fakes import FakeGateway, FixedClock, fake_deps
from tests.unit.api.test_pages import csrf, sign_in


@pytest.fixture
def site(sqlite_settings):
    app = create_app(sqlite_settings)
    gateway = FakeGateway()
    deps = fake_deps(FixedClock(datetime(2022, 1, 11, tzinfo=UTC)), gateway)
    app.extensions["seatflow"].deps = deps
    app.extensions["seatflow"].enqueue = lambda name, args: None
    engine = make_engine(sqlite_settings)
    world = build_world(engine)

    def apply(event: dict[str, Any]) -> str:
        return stripe_events.process_stripe_event(
            store_event(engine, event), SqlUnitOfWork(engine), deps
        )

    return app, world, gateway, apply


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_update_payment_method_sends_the_owner_to_stripe_with_return_urls(site) -> None:
    app, world, gateway, _ = site
    client = app.test_client()
    sign_in(client, world.tokens["owner"])
    page = client.get(f"/orgs/{world.org_id}/subscriptions").get_data(as_text=True)
    assert "No card on file yet." in page and ">Update payment method<" in page

    response = client.post(f"/orgs/{world.org_id}/payment-method", data={"csrf_token": csrf(page)})

    assert (response.status_code, response.headers["Location"]) == (
        303,
        "https://stripe.example/checkout/1",
    )
    sent = gateway.setups[0]
    assert (sent["customer_id"], sent["portal"]) == ("cus_acme", False)
    assert sent["return_url"] == f"http://localhost/orgs/{world.org_id}/payment-method/done"
    assert sent["cancel_url"] == f"http://localhost/orgs/{world.org_id}/subscriptions"


def test_the_portal_is_used_when_configured(sqlite_settings) -> None:
    app = create_app(sqlite_settings.with_overrides(payment_method_update="portal"))
    gateway = FakeGateway()
    app.extensions["seatflow"].deps = fake_deps(gateway=gateway)
    world = build_world(make_engine(sqlite_settings))
    client = app.test_client()
    sign_in(client, world.tokens["admin"])
    page = client.get(f"/orgs/{world.org_id}/subscriptions").get_data(as_text=True)
    response = client.post(f"/orgs/{world.org_id}/payment-method", data={"csrf_token": csrf(page)})
    assert response.headers["Location"] == "https://stripe.example/portal/1"
    assert gateway.setups[0]["portal"] is True


def test_a_member_cannot_update_the_card_and_a_post_needs_the_csrf_token(site) -> None:
    app, world, gateway, _ = site
    client = app.test_client()
    sign_in(client, world.tokens["member"])
    page = client.get(f"/orgs/{world.org_id}/subscriptions").get_data(as_text=True)
    assert ">Update payment method<" not in page
    url = f"/orgs/{world.org_id}/payment-method"
    assert client.post(url, data={"csrf_token": csrf(page)}).status_code == 403
    assert client.post(url).status_code == 400
    assert gateway.setups == []


def test_the_card_on_file_is_shown_after_the_event(site) -> None:
    app, world, _, apply = site
    client = app.test_client()
    url = f"/api/v1/organizations/{world.org_id}/payment-method"
    headers = auth(world.tokens["member"])
    assert client.get(url, headers=headers).json == {"card": None}
    pm = stripe_fixture("payment_method") | {"id": "pm_1", "customer": "cus_acme"}
    apply(samples.event("payment_method.attached", pm, created=100))
    assert client.get(url, headers=headers).json == {
        "card": {"brand": "visa", "last4": "4242", "exp_month": 8, "exp_year": 2030}
    }
    sign_in(client, world.tokens["member"])
    page = client.get(f"/orgs/{world.org_id}/subscriptions").get_data(as_text=True)
    assert "Visa ending in 4242, expires 08/2030" in page


def paid_upgrade(app, world, apply) -> str:
    client = app.test_client()
    headers = auth(world.tokens["owner"])
    base = f"/api/v1/organizations/{world.org_id}"
    est = client.post(
        f"{base}/estimates",
        json={"license_type": "node_locked", "seats": 1, "interval": "year"},
        headers=headers,
    ).json
    upgrade = client.post(f"{base}/upgrades", json={"estimate_id": est["id"]}, headers=headers)
    upgrade_id: str = upgrade.json["id"]

    upgrade_charge.charge_upgrade(
        upgrade_id,
        SqlUnitOfWork(app.extensions["seatflow"].engine),
        app.extensions["seatflow"].deps,
    )
    event = invoice_event("invoice.paid", f"in_{upgrade_id}", upgrade_id, 90486)
    event["data"]["object"].update(
        number="ACME-0001",
        hosted_invoice_url="https://invoice.stripe.com/i/test_1",
        invoice_pdf="https://pay.stripe.com/invoice/test_1/pdf",
        status_transitions={"paid_at": 1641900000},
    )
    assert apply(event) == "applied"
    return upgrade_id


def test_a_paid_upgrade_shows_its_receipt_on_the_page_and_in_the_api(site) -> None:
    app, world, gateway, apply = site
    upgrade_id = paid_upgrade(app, world, apply)
    assert gateway.charges[0]["amount"] == 90486
    client = app.test_client()
    sign_in(client, world.tokens["owner"])

    page = client.get(f"/orgs/{world.org_id}/upgrades/{upgrade_id}").get_data(as_text=True)
    shown = client.get(
        f"/api/v1/organizations/{world.org_id}/upgrades/{upgrade_id}",
        headers=auth(world.tokens["member"]),
    ).json

    live = client.get(f"/orgs/{world.org_id}/upgrades/{upgrade_id}/receipt.json").json
    missing = client.get(f"/orgs/{world.org_id}/upgrades/upg_not_ours/receipt.json")

    assert "ACME-0001" in page and "904.86 USD on 2022-01-11" in page
    assert live["receipt"] == shown["receipt"] and missing.status_code == 404
    assert 'href="https://invoice.stripe.com/i/test_1"' in page
    assert 'href="https://pay.stripe.com/invoice/test_1/pdf"' in page
    assert shown["receipt"] == {
        "invoice_id": f"in_{upgrade_id}",
        "number": "ACME-0001",
        "amount_paid": 90486,
        "amount_paid_text": "904.86 USD",
        "currency": "usd",
        "paid_at": "2022-01-11T11:20:00Z",
        "hosted_invoice_url": "https://invoice.stripe.com/i/test_1",
        "invoice_pdf": "https://pay.stripe.com/invoice/test_1/pdf",
    }


def test_the_history_lists_every_upgrade_with_amounts_and_who_asked(site) -> None:
    app, world, _, apply = site
    upgrade_id = paid_upgrade(app, world, apply)
    client = app.test_client()

    listed = client.get(
        f"/api/v1/organizations/{world.org_id}/upgrades", headers=auth(world.tokens["member"])
    ).json["upgrades"]
    sign_in(client, world.tokens["member"])
    page = client.get(f"/orgs/{world.org_id}/history").get_data(as_text=True)

    assert len(listed) == 1
    row = listed[0]
    assert (row["id"], row["state"], row["requested_by"]) == (
        upgrade_id,
        "applied",
        "owner@acme.example",
    )
    assert (row["estimate_amount"], row["charged_amount"], row["paid_amount"]) == (
        90486,
        90486,
        90486,
    )
    assert (row["estimate_drift"], row["discount_code"]) == (0, None)
    assert row["receipt"]["number"] == "ACME-0001"
    assert f'data-upgrade-id="{upgrade_id}"' in page and "owner@acme.example" in page
    assert "ACME-0001" in page


def test_another_organizations_history_is_not_found(site) -> None:
    app, world, _, _ = site
    response = app.test_client().get(
        "/api/v1/organizations/org_other/upgrades", headers=auth(world.tokens["owner"])
    )
    assert response.status_code == 404


def test_the_current_license_downloads_from_the_pages(site) -> None:
    app, world, _, apply = site
    client = app.test_client()
    sign_in(client, world.tokens["member"])
    page = client.get(f"/orgs/{world.org_id}/subscriptions").get_data(as_text=True)
    assert ">Download license<" not in page  # no license issued yet
    apply(subscription_event("cus_acme", seats=2, created=1_641_000_000))
    page = client.get(f"/orgs/{world.org_id}/subscriptions").get_data(as_text=True)
    assert ">Download license<" in page
    response = client.get(f"/orgs/{world.org_id}/licenses/node_locked/file")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    signed = json.loads(response.get_data(as_text=True))
    assert signed["license"]["seats"] == 2 and signed["signature"]
    assert client.get(f"/orgs/{world.org_id}/licenses/floating/file").status_code == 404


def test_the_favicon_is_served(site) -> None:
    app, _, _, _ = site
    response = app.test_client().get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.get_data()[:4] == b"\x00\x00\x01\x00"


def test_the_upgrade_form_shows_the_card_before_pay(site) -> None:
    app, world, _, apply = site
    client = app.test_client()
    sign_in(client, world.tokens["owner"])
    form = f"/orgs/{world.org_id}/upgrade/node_locked"
    assert "No card on file yet" in client.get(form).get_data(as_text=True)
    pm = stripe_fixture("payment_method") | {"id": "pm_1", "customer": "cus_acme"}
    apply(samples.event("payment_method.attached", pm, created=100))
    page = client.get(form).get_data(as_text=True)
    assert "Paid with the card on file: Visa ending in 4242, expires 08/2030." in page
    assert page.index('id="pay-with"') < page.index('id="pay"')


def _card_update_from(app, world, host: str, **headers: str):
    """Signed in as the owner, *Update payment method* sent with `Host: host` throughout."""
    client, base = app.test_client(), f"http://{host}"
    token_field = csrf(client.get("/signin", base_url=base).get_data(as_text=True))
    form = {"token": world.tokens["owner"], "csrf_token": token_field}
    client.post("/signin", data=form, base_url=base)
    page = client.get(f"/orgs/{world.org_id}/subscriptions", base_url=base)
    return client.post(
        f"/orgs/{world.org_id}/payment-method",
        data={"csrf_token": csrf(page.get_data(as_text=True))},
        headers=headers,
        base_url=base,
    )


def test_an_untrusted_host_never_reaches_the_checkout_return_urls(site) -> None:
    """No SEATFLOW_TRUSTED_HOSTS, no SEATFLOW_PUBLIC_URL: a Host header seatflow cannot vouch
    for is refused rather than written into the addresses Stripe sends the customer to."""
    app, world, gateway, _ = site
    response = _card_update_from(app, world, "evil.example")
    assert response.status_code == 400
    assert gateway.setups == []
    assert "SEATFLOW_PUBLIC_URL" in response.get_data(as_text=True)


def test_the_return_urls_are_built_on_the_public_url_whatever_the_host(sqlite_settings) -> None:
    settings = sqlite_settings.with_overrides(public_url="https://billing.example.com")
    app = create_app(settings)
    gateway = FakeGateway()
    app.extensions["seatflow"].deps = fake_deps(gateway=gateway)
    world = build_world(make_engine(sqlite_settings))
    assert _card_update_from(app, world, "evil.example").status_code == 303
    sent = gateway.setups[0]
    base = f"https://billing.example.com/orgs/{world.org_id}"
    assert sent["return_url"] == f"{base}/payment-method/done"
    assert sent["cancel_url"] == f"{base}/subscriptions"


@pytest.mark.parametrize("proxies, scheme", [(1, "https"), (0, "http")])
def test_the_scheme_a_trusted_proxy_forwards_is_used(sqlite_settings, proxies, scheme) -> None:
    """Behind the shipped nginx (TLS there) the addresses are https://, but only when the
    proxy is declared: otherwise anyone could claim X-Forwarded-Proto."""
    settings = sqlite_settings.with_overrides(
        trusted_proxies=proxies, trusted_hosts=("billing.example.com",)
    )
    app = create_app(settings)
    gateway = FakeGateway()
    app.extensions["seatflow"].deps = fake_deps(gateway=gateway)
    world = build_world(make_engine(sqlite_settings))
    response = _card_update_from(
        app, world, "billing.example.com", **{"X-Forwarded-Proto": "https"}
    )
    assert response.status_code == 303
    assert gateway.setups[0]["cancel_url"].startswith(f"{scheme}://billing.example.com/")
