"""The pages over Flask's test client: sign-in, CSRF, roles, the upgrade form."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from api import create_app
from config.database import make_engine
from services.upgrades import charge as upgrade_charge
from tests.builders import build_world
from tests.fakes import FakeGateway, FixedClock, fake_deps


@pytest.fixture
def site(sqlite_settings):
    app = create_app(sqlite_settings)
    app.extensions["seatflow"].deps = fake_deps(
        FixedClock(datetime(2022, 1, 11, tzinfo=UTC)), FakeGateway()
    )
    app.extensions["seatflow"].enqueue = lambda name, args: None
    world = build_world(make_engine(sqlite_settings))
    return app.test_client(), world


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def sign_in(client, token: str):
    token_field = csrf(client.get("/signin").get_data(as_text=True))
    return client.post("/signin", data={"token": token, "csrf_token": token_field})


def test_signing_in_sets_an_httponly_samesite_cookie_and_shows_subscriptions(site) -> None:
    client, world = site
    response = sign_in(client, world.tokens["owner"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "node-locked" in page and ">Upgrade<" in page


def test_a_member_sees_no_upgrade_button_and_gets_403_on_post(site) -> None:
    client, world = site
    sign_in(client, world.tokens["member"])
    page = client.get(f"/orgs/{world.org_id}/subscriptions").get_data(as_text=True)
    assert "node-locked" in page and ">Upgrade<" not in page
    token = csrf(page)
    response = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/pay",
        data={"csrf_token": token, "estimate_id": "est_x"},
    )
    assert response.status_code == 403


def test_posts_without_the_csrf_token_are_refused(site) -> None:
    client, world = site
    sign_in(client, world.tokens["owner"])
    response = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/estimate", data={"seats": 2, "interval": "month"}
    )
    assert response.status_code == 400


def test_a_wrong_token_does_not_sign_in(site) -> None:
    client, _ = site
    assert sign_in(client, "sf_wrong").status_code == 401


def test_the_estimate_endpoint_gives_the_breakdown(site) -> None:
    client, world = site
    sign_in(client, world.tokens["owner"])
    form = client.get(f"/orgs/{world.org_id}/upgrade/node_locked").get_data(as_text=True)
    assert 'value="year"' in form  # monthly → annual is offered
    data = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/estimate",
        data={"seats": 1, "interval": "year", "csrf_token": csrf(form)},
    ).json
    assert (data["amount"], data["next_invoice"]["amount"]) == (90486, 100000)


def test_annual_subscriptions_are_not_offered_monthly(sqlite_settings) -> None:
    app = create_app(sqlite_settings)
    world = build_world(make_engine(sqlite_settings), customer="cus_y", interval="year")
    client = app.test_client()
    sign_in(client, world.tokens["owner"])
    form = client.get(f"/orgs/{world.org_id}/upgrade/node_locked").get_data(as_text=True)
    assert 'value="month"' not in form


def _failed_upgrade(client, world, gateway_failure: dict) -> str:
    from adapters.unit_of_work import SqlUnitOfWork
    from domain.commands import RequestEstimate, SubmitUpgrade
    from services.upgrades import request as upgrade_service

    app = client.application
    deps = app.extensions["seatflow"].deps
    for name, value in gateway_failure.items():
        setattr(deps.gateway, name, value)
    uow = SqlUnitOfWork(app.extensions["seatflow"].engine)
    owner = world.owner["id"]
    cmd = RequestEstimate(world.org_id, owner, "node_locked", 2, "month")
    estimate = upgrade_service.request_estimate(cmd, uow, deps)
    upgrade, _ = upgrade_service.submit_upgrade(
        SubmitUpgrade(world.org_id, owner, estimate.id), uow, deps
    )
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    return upgrade.id


def test_a_failed_payment_shows_no_charged_amount_and_offers_to_pay_again(site) -> None:
    client, world = site
    sign_in(client, world.tokens["owner"])
    upgrade_id = _failed_upgrade(client, world, {"decline": "Your card was declined."})
    page = client.get(f"/orgs/{world.org_id}/upgrades/{upgrade_id}").get_data(as_text=True)
    assert "Charged" not in page and "Paid:" not in page
    assert f'action="/orgs/{world.org_id}/upgrades/{upgrade_id}/retry"' in page


def test_3d_secure_offers_complete_payment_on_stripes_hosted_page(site) -> None:
    client, world = site
    sign_in(client, world.tokens["owner"])
    url = "https://invoice.stripe.com/i/in_x/test"
    upgrade_id = _failed_upgrade(
        client, world, {"decline": "authentication required", "action_url": url}
    )
    page = client.get(f"/orgs/{world.org_id}/upgrades/{upgrade_id}").get_data(as_text=True)
    assert f'<a id="complete-payment" href="{url}"' in page and "Complete payment" in page


def test_while_3d_secure_waits_the_owner_may_pay_again_with_a_new_card_or_cancel(site) -> None:
    """The bank asks for 3-D Secure; the owner puts in another card instead: the page offers
    Pay again (the same invoice, charged with the new default card) and Cancel, not only
    Complete payment."""
    client, world = site
    sign_in(client, world.tokens["owner"])
    url = "https://invoice.stripe.com/i/in_x/test"
    upgrade_id = _failed_upgrade(
        client, world, {"decline": "authentication required", "action_url": url}
    )
    base = f"/orgs/{world.org_id}/upgrades/{upgrade_id}"
    page = client.get(base).get_data(as_text=True)
    assert f'action="{base}/retry"' in page and f'action="{base}/cancel"' in page

    gateway = client.application.extensions["seatflow"].deps.gateway
    gateway.decline = gateway.action_url = None  # the new card pays
    again = client.post(f"{base}/retry", data={"csrf_token": csrf(page)})
    assert again.status_code == 302
    state = client.get(f"{base}.json").json
    assert state["state"] == "charging"

    cancel = client.post(f"{base}/cancel", data={"csrf_token": csrf(page)})
    assert cancel.status_code == 302
    assert client.get(f"{base}.json").json["state"] == "canceled"
