"""A Stripe promotion code in the discount field of the JSON API and of the upgrade page: the
estimate says whose code it is and what it takes off; each refusal is a 400 with its code and
a clear message (a page shows the message)."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from api import create_app
from config.database import make_engine
from domain.ports import ChargeUnavailable
from domain.promotions import Coupon, PromotionCode
from services import admin
from services.upgrades import charge as upgrade_charge
from tests.builders import build_world
from tests.fakes import FakeGateway, FixedClock, fake_deps
from tests.unit.api.test_pages import csrf, sign_in

YEAR = {"license_type": "node_locked", "seats": 1, "interval": "year"}


@pytest.fixture
def env(sqlite_settings):
    gateway = FakeGateway()
    gateway.promotion_codes["promo_1"] = PromotionCode(
        id="promo_1", code="SPRING33", coupon=Coupon("co_1", percent_off=Fraction("33.33"))
    )
    gateway.promotion_codes["promo_2"] = PromotionCode(
        id="promo_2", code="OLD", coupon=Coupon("co_2", percent_off=Fraction(5)), active=False
    )
    app = create_app(sqlite_settings)
    deps = fake_deps(FixedClock(datetime(2022, 1, 11, tzinfo=UTC)), gateway)
    app.extensions["seatflow"].deps = deps
    app.extensions["seatflow"].enqueue = lambda name, args: None
    engine = make_engine(sqlite_settings)
    world = build_world(engine)
    return app.test_client(), world, gateway, engine, deps


def post_estimate(client, world, **body):
    return client.post(
        f"/api/v1/organizations/{world.org_id}/estimates",
        headers={"Authorization": f"Bearer {world.tokens['owner']}"},
        json=YEAR | body,
    )


def test_the_api_estimates_with_a_stripe_code_and_says_whose_it_is(env) -> None:
    client, world, *_ = env
    response = post_estimate(client, world, discount_code="spring33")
    assert response.status_code == 201
    breakdown = response.json["breakdown"]
    assert (breakdown["discount"], breakdown["discount_code"]) == (30159, "SPRING33")
    assert breakdown["discount_source"] == "stripe"
    assert response.json["amount"] == 90486 - 30159
    assert response.json["text"]["discount"] == "301.59 USD"


def test_a_local_code_reads_as_seatflows(env, sqlite_settings) -> None:
    client, world, _, engine, _ = env
    admin.create_discount(SqlUnitOfWork(engine), "LOCAL", 10, None, None, None, None)
    breakdown = post_estimate(client, world, discount_code="local").json["breakdown"]
    assert (breakdown["discount_source"], breakdown["discount"]) == ("seatflow", 9049)
    assert post_estimate(client, world).json["breakdown"]["discount_source"] is None


@pytest.mark.parametrize(
    "code, error",
    [
        ("OLD", "discount_code_inactive"),
        ("NOWHERE", "discount_code_invalid"),
        ("two words", "invalid_discount_code"),
    ],
)
def test_each_refused_code_is_a_400_with_its_code_and_message(env, code, error) -> None:
    client, world, *_ = env
    response = post_estimate(client, world, discount_code=code)
    assert response.status_code == 400
    assert response.json["error"]["code"] == error
    assert response.json["error"]["message"]


def test_a_local_code_used_up_is_a_400_too(env) -> None:
    client, world, _, engine, _ = env
    admin.create_discount(SqlUnitOfWork(engine), "NONE", 10, None, None, None, 0)
    response = post_estimate(client, world, discount_code="NONE")
    assert (response.status_code, response.json["error"]["code"]) == (
        400,
        "discount_code_exhausted",
    )


def test_stripe_unreachable_for_the_lookup_is_a_503(env) -> None:
    client, world, gateway, *_ = env
    gateway.find_promotion_code = _down  # type: ignore[method-assign]
    response = post_estimate(client, world, discount_code="SPRING33")
    assert (response.status_code, response.json["error"]["code"]) == (503, "stripe_unavailable")


def _down(**_: object) -> None:
    raise ChargeUnavailable("network", "no route to Stripe")


def test_the_upgrade_says_which_code_and_what_it_took_off(env) -> None:
    client, world, _, engine, deps = env
    headers = {"Authorization": f"Bearer {world.tokens['owner']}"}
    estimate = post_estimate(client, world, discount_code="SPRING33").json
    upgrade = client.post(
        f"/api/v1/organizations/{world.org_id}/upgrades",
        headers=headers | {"Idempotency-Key": "k1"},
        json={"estimate_id": estimate["id"]},
    ).json
    upgrade_charge.charge_upgrade(upgrade["id"], SqlUnitOfWork(engine), deps)
    shown = client.get(
        f"/api/v1/organizations/{world.org_id}/upgrades/{upgrade['id']}", headers=headers
    ).json
    assert shown["discount"] == {"code": "SPRING33", "source": "stripe", "amount": 30159}
    assert shown["amount_due"] == 90486 - 30159


def test_the_page_shows_a_refused_code_and_a_stripe_code(env) -> None:
    client, world, *_ = env
    sign_in(client, world.tokens["owner"])
    form = client.get(f"/orgs/{world.org_id}/upgrade/node_locked").get_data(as_text=True)
    refused = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/estimate",
        data={"seats": 1, "interval": "year", "discount_code": "old", "csrf_token": csrf(form)},
    )
    assert refused.status_code == 400
    assert refused.json["error"]["message"] == "promotion code 'OLD' is not active"
    # Without JavaScript: the form comes back with the message, the inputs kept.
    shown = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/pay",
        data={"seats": 1, "interval": "year", "discount_code": "old", "csrf_token": csrf(form)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "promotion code &#39;OLD&#39; is not active" in shown
    assert 'value="old"' in shown
    page = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/pay",
        data={
            "seats": 1,
            "interval": "year",
            "discount_code": "SPRING33",
            "csrf_token": csrf(form),
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Discount SPRING33 (Stripe promotion code)" in page
    assert "301.59 USD" in page
