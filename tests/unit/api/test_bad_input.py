"""Hostile input through the pages and the org API: one validator for both, no 500, no
header built from what a caller typed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from api import create_app
from config.database import make_engine
from tests.builders import build_world
from tests.fakes import FakeGateway, FixedClock, fake_deps
from tests.unit.api.test_pages import csrf, sign_in


@pytest.fixture
def site(sqlite_settings):
    app = create_app(sqlite_settings)
    gateway = FakeGateway()
    app.extensions["seatflow"].deps = fake_deps(
        FixedClock(datetime(2022, 1, 11, tzinfo=UTC)), gateway
    )
    app.extensions["seatflow"].enqueue = lambda name, args: None
    engine = make_engine(sqlite_settings)
    world = build_world(engine, interval="year")
    client = app.test_client()
    sign_in(client, world.tokens["owner"])
    return client, world, engine


def _form(client, world) -> str:
    return csrf(client.get(f"/orgs/{world.org_id}/upgrade/node_locked").get_data(as_text=True))


@pytest.mark.parametrize("seats", ["1000000", str(2**31), "0", "-3", "1e3"])
def test_the_estimate_page_refuses_the_seats_the_api_refuses(site, seats) -> None:
    client, world, _ = site
    response = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/estimate",
        data={"seats": seats, "interval": "year", "csrf_token": _form(client, world)},
    )
    assert (response.status_code, response.json["error"]["code"]) == (400, "invalid_request")


def test_the_estimate_page_refuses_an_unknown_interval(site) -> None:
    client, world, _ = site
    response = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/estimate",
        data={"seats": "2", "interval": "week", "csrf_token": _form(client, world)},
    )
    assert (response.status_code, response.json["error"]["code"]) == (400, "invalid_request")


def test_the_pay_page_refuses_an_overlong_idempotency_key(site) -> None:
    client, world, engine = site
    token = _form(client, world)
    estimate = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/estimate",
        data={"seats": "2", "interval": "year", "csrf_token": token},
    ).json
    response = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/pay",
        data={"estimate_id": estimate["id"], "idempotency_key": "k" * 300, "csrf_token": token},
    )
    assert response.status_code == 400
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM upgrades")).scalar() == 0


@pytest.mark.parametrize(
    "machine_id", ["m" * 5000, 'a"; filename="evil.exe', "a\r\nSet-Cookie: x=1", "", "   "]
)
def test_the_offline_page_refuses_a_bad_machine_id(site, machine_id) -> None:
    client, world, engine = site
    page = f"/orgs/{world.org_id}/offline/node_locked"
    token = csrf(client.get(page).get_data(as_text=True))
    response = client.post(page, data={"machine_id": machine_id, "csrf_token": token})
    assert response.status_code == 302
    shown = client.get(page).get_data(as_text=True)
    assert "machine id" in shown.lower() and "letters, digits" in shown
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM offline_activations")).scalar() == 0


def test_the_api_refuses_a_machine_id_with_quotes_or_line_breaks(site) -> None:
    client, world, _ = site
    for machine_id in ('a"b', "a\r\nb", "a b"):
        response = client.post(
            f"/api/v1/organizations/{world.org_id}/offline-licenses",
            headers={"Authorization": f"Bearer {world.tokens['owner']}"},
            json={"license_type": "node_locked", "machine_id": machine_id},
        )
        assert (response.status_code, response.json["error"]["code"]) == (
            400,
            "invalid_machine_id",
        )


def _stored_activation(engine, world, machine_id: str) -> str:
    """A row written before machine ids were checked: downloads must still answer safely."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO offline_activations (id, organization_id, license_type, machine_id,"
                " issued_at, expires_at, status, version, signature) VALUES ('off_old', :org,"
                " 'node_locked', :machine, '2022-01-11 00:00:00', '2023-01-01 00:00:00',"
                " 'active', 1, 'sig')"
            ),
            {"org": world.org_id, "machine": machine_id},
        )
    return "off_old"


@pytest.mark.parametrize("machine_id", ["a\r\nSet-Cookie: x=1", 'a"; filename="evil.exe'])
def test_downloads_build_a_safe_filename_from_a_stored_machine_id(site, machine_id) -> None:
    client, world, engine = site
    activation_id = _stored_activation(engine, world, machine_id)
    for path in (
        f"/orgs/{world.org_id}/offline/node_locked/{activation_id}/file",
        f"/api/v1/organizations/{world.org_id}/offline-licenses/{activation_id}/file",
    ):
        response = client.get(path, headers={"Authorization": f"Bearer {world.tokens['owner']}"})
        assert response.status_code == 200
        disposition = response.headers["Content-Disposition"]
        assert disposition.count('"') == 2 and "\r" not in disposition and "\n" not in disposition
        assert "Set-Cookie" not in response.headers
