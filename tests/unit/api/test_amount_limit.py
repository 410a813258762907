"""The largest upgrade the form allows would send Stripe an amount it refuses: the estimate
refuses it with a named error and a sentence, and so does the charge that recomputes it."""

from __future__ import annotations

from adapters.unit_of_work import SqlUnitOfWork
from services import admin
from services.upgrades import charge as upgrade_charge
from tests.builders import CATALOG
from tests.unit.api.test_org_api import auth, env, url  # noqa: F401 (the fixture)
from tests.unit.api.test_pages import csrf, sign_in


def test_an_estimate_above_stripe_s_largest_amount_is_refused_with_a_sentence(env) -> None:  # noqa: F811
    client, world, _, _ = env
    response = client.post(
        url(world, "/estimates"),
        headers=auth(world.tokens["owner"]),
        json={"license_type": "node_locked", "seats": 100_000, "interval": "year"},
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "amount_too_large"
    assert "999,999.99 USD" in response.json["error"]["message"]
    assert "contact sales" in response.json["error"]["message"]


def test_the_upgrade_page_shows_the_sentence(env) -> None:  # noqa: F811
    client, world, _, _ = env
    sign_in(client, world.tokens["owner"])
    form = client.get(f"/orgs/{world.org_id}/upgrade/node_locked").get_data(as_text=True)
    response = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/estimate",
        data={"seats": 100_000, "interval": "year", "csrf_token": csrf(form)},
    )
    assert response.status_code == 422
    assert "contact sales" in response.json["error"]["message"]


def test_a_charge_that_grew_above_the_limit_is_refused_before_stripe(env) -> None:  # noqa: F811
    client, world, _, _ = env
    headers = {**auth(world.tokens["owner"]), "Idempotency-Key": "big"}
    estimate = client.post(
        url(world, "/estimates"),
        headers=headers,
        json={"license_type": "node_locked", "seats": 500, "interval": "year"},
    ).json
    submitted = client.post(
        url(world, "/upgrades"), json={"estimate_id": estimate["id"]}, headers=headers
    )
    assert submitted.status_code in (201, 202), submitted.json
    # The yearly price rises a hundredfold before the charge runs.
    uow = SqlUnitOfWork(client.application.extensions["seatflow"].engine)
    admin.import_catalog(uow, [CATALOG[1] | {"unit_amount": 10_000_000}])
    deps = client.application.extensions["seatflow"].deps
    state = upgrade_charge.charge_upgrade(submitted.json["id"], uow, deps)
    assert state == "payment_failed"
    assert deps.gateway.charges == []
    shown = client.get(url(world, f"/upgrades/{submitted.json['id']}"), headers=headers).json
    assert shown["failure_reason"].startswith("amount_too_large")
