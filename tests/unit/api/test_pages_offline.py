"""The offline page says when released machines still hold a seat."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from api import create_app
from config.database import make_engine
from tests.builders import build_world
from tests.fakes import FakeGateway, FixedClock, fake_deps
from tests.unit.api.test_pages import csrf, sign_in


def test_a_released_machine_is_shown_holding_its_seat_until_its_file_expires(
    sqlite_settings,
) -> None:
    app = create_app(sqlite_settings)
    app.extensions["seatflow"].deps = fake_deps(
        FixedClock(datetime(2022, 1, 11, tzinfo=UTC)), FakeGateway()
    )
    world = build_world(make_engine(sqlite_settings), interval="year")
    client = app.test_client()
    sign_in(client, world.tokens["owner"])
    page = f"/orgs/{world.org_id}/offline/node_locked"
    html = client.get(page).get_data(as_text=True)
    client.post(page, data={"machine_id": "m-1", "csrf_token": csrf(html)})
    html = client.get(page).get_data(as_text=True)
    release = re.search(r'action="([^"]+/release)"', html)
    assert release
    client.post(release.group(1), data={"csrf_token": csrf(html)})
    html = client.get(page).get_data(as_text=True)
    assert "0 of 1 seat(s) used offline." in html
    assert "1 released machine(s) keep their seat until 2022-02-10" in html


def test_no_offline_license_form_where_offline_licenses_are_not_allowed(sqlite_settings) -> None:
    app = create_app(sqlite_settings)
    engine = make_engine(sqlite_settings)
    monthly = build_world(engine)  # node-locked, monthly: not allowed
    annual = build_world(engine, customer="cus_annual", interval="year", sub_id="sub_annual")
    client = app.test_client()
    sign_in(client, monthly.tokens["owner"])
    html = client.get(f"/orgs/{monthly.org_id}/offline/node_locked").get_data(as_text=True)
    assert "Add offline license" not in html and 'name="machine_id"' not in html
    assert "This subscription does not allow offline licenses." in html
    client = app.test_client()
    sign_in(client, annual.tokens["owner"])
    html = client.get(f"/orgs/{annual.org_id}/offline/node_locked").get_data(as_text=True)
    assert "Add offline license" in html
    assert "does not allow offline licenses" not in html
