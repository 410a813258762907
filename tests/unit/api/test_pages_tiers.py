"""Tiers on the pages and in the org API: the form offers higher tiers with their price per
seat, the table shows the tier, an estimate may ask for one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from api import create_app
from config.database import make_engine
from services import admin
from tests.builders import build_world
from tests.fakes import FakeGateway, FixedClock, fake_deps
from tests.unit.api.test_pages import csrf, sign_in
from tests.unit.services.test_upgrade_tiers import TIERS


@pytest.fixture
def site(sqlite_settings):
    app = create_app(sqlite_settings)
    app.extensions["seatflow"].deps = fake_deps(
        FixedClock(datetime(2022, 1, 11, tzinfo=UTC)), FakeGateway()
    )
    app.extensions["seatflow"].enqueue = lambda name, args: None
    engine = make_engine(sqlite_settings)
    world = build_world(engine)
    admin.import_catalog(SqlUnitOfWork(engine), TIERS)
    return app.test_client(), world


def test_the_subscriptions_table_shows_the_tier(site) -> None:
    client, world = site
    sign_in(client, world.tokens["owner"])
    page = client.get(f"/orgs/{world.org_id}/subscriptions").get_data(as_text=True)
    assert '<th scope="col">Tier</th>' in page
    assert '<td class="tier" data-label="Tier">standard</td>' in page


def test_the_upgrade_form_offers_the_higher_tiers_with_their_price_per_seat(site) -> None:
    client, world = site
    sign_in(client, world.tokens["owner"])
    form = client.get(f"/orgs/{world.org_id}/upgrade/node_locked").get_data(as_text=True)
    assert 'name="tier" value="standard" checked' in form
    assert 'name="tier" value="professional"' in form
    assert "200.00 USD per seat a month, 2,000.00 USD per seat a year" in form
    assert 'name="tier" value="enterprise"' in form
    assert "4,000.00 USD per seat a year" in form
    assert "recomputed at payment and may differ slightly" in form


def test_the_page_estimate_prices_the_chosen_tier(site) -> None:
    client, world = site
    sign_in(client, world.tokens["owner"])
    form = client.get(f"/orgs/{world.org_id}/upgrade/node_locked").get_data(as_text=True)
    data = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/estimate",
        data={"seats": 1, "interval": "year", "tier": "professional", "csrf_token": csrf(form)},
    ).json
    assert (data["amount"], data["requested"]["tier"], data["current"]["tier"]) == (
        187747,
        "professional",
        "standard",
    )


def test_the_api_estimate_accepts_a_tier_and_shows_it(site) -> None:
    client, world = site
    headers = {"Authorization": f"Bearer {world.tokens['owner']}"}
    base = f"/api/v1/organizations/{world.org_id}"
    [sub] = client.get(f"{base}/subscriptions", headers=headers).json["subscriptions"]
    assert sub["tier"] == "standard"
    body = {"license_type": "node_locked", "seats": 1, "interval": "month", "tier": "professional"}
    made = client.post(f"{base}/estimates", json=body, headers=headers)
    assert made.status_code == 201
    assert (made.json["amount"], made.json["requested"]["tier"]) == (6774, "professional")
    upgrade = client.post(
        f"{base}/upgrades", json={"estimate_id": made.json["id"]}, headers=headers
    )
    assert (upgrade.json["from"]["tier"], upgrade.json["to"]["tier"]) == (
        "standard",
        "professional",
    )
    lower = client.post(f"{base}/estimates", json=body | {"tier": "standard"}, headers=headers)
    assert lower.json["error"]["code"] == "nothing_to_change"


def test_the_upgrade_form_shows_features_by_their_labels(site) -> None:
    client, world = site
    sign_in(client, world.tokens["owner"])
    form = client.get(f"/orgs/{world.org_id}/upgrade/node_locked").get_data(as_text=True)
    assert "priority_support" not in form.split('id="tiers"', 1)[1].split("</fieldset>")[0]
    assert "Priority support" in form


def test_the_history_shows_a_tier_change_with_the_seats(site) -> None:
    from domain.commands import RequestEstimate, SubmitUpgrade
    from services.upgrades import request as upgrade_service

    client, world = site
    app = client.application
    deps, uow = app.extensions["seatflow"].deps, SqlUnitOfWork(app.extensions["seatflow"].engine)
    cmd = RequestEstimate(
        world.org_id, world.owner["id"], "node_locked", 8, "year", tier="enterprise"
    )
    estimate = upgrade_service.request_estimate(cmd, uow, deps)
    upgrade_service.submit_upgrade(
        SubmitUpgrade(world.org_id, world.owner["id"], estimate.id), uow, deps
    )
    sign_in(client, world.tokens["owner"])
    page = client.get(f"/orgs/{world.org_id}/history").get_data(as_text=True)
    assert "1 → 8" in page and "standard → enterprise" in page
