"""Amounts on the pages, in the estimate's text and in the CLI follow the currency's exponent:
a yen catalog shows ¥10,000 as "10,000 JPY", never "100.00 JPY"."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api import create_app
from config.database import make_engine
from tests import builders
from tests.fakes import FakeGateway, FixedClock, fake_deps
from tests.unit.api.test_pages import csrf, sign_in
from tests.unit.cli.test_commands import seatflow

YEN = [entry | {"currency": "jpy"} for entry in builders.CATALOG]


@pytest.fixture
def yen_site(sqlite_settings, monkeypatch):
    monkeypatch.setattr(builders, "CATALOG", YEN)
    app = create_app(sqlite_settings)
    app.extensions["seatflow"].deps = fake_deps(
        FixedClock(datetime(2022, 1, 11, tzinfo=UTC)), FakeGateway()
    )
    app.extensions["seatflow"].enqueue = lambda name, args: None
    world = builders.build_world(make_engine(sqlite_settings))
    client = app.test_client()
    sign_in(client, world.tokens["owner"])
    return client, world


def test_the_subscriptions_page_shows_yen_without_decimals(yen_site) -> None:
    client, world = yen_site
    page = client.get(f"/orgs/{world.org_id}/subscriptions").get_data(as_text=True)
    assert "10,000 JPY" in page and "100.00 JPY" not in page


def test_the_upgrade_form_and_its_estimate_show_yen_without_decimals(yen_site) -> None:
    client, world = yen_site
    form = client.get(f"/orgs/{world.org_id}/upgrade/node_locked").get_data(as_text=True)
    assert "10,000 JPY per seat a month" in form and "100,000 JPY per seat a year" in form
    data = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/estimate",
        data={"seats": 1, "interval": "year", "csrf_token": csrf(form)},
    ).json
    assert data["amount"] == 90486
    # The script shows the server's text: one formatting rule, in the domain.
    assert data["text"]["amount"] == "90,486 JPY"
    assert data["text"]["next_invoice"] == "100,000 JPY"
    shown = client.get(f"/orgs/{world.org_id}/upgrade/node_locked?estimate={data['id']}").get_data(
        as_text=True
    )
    assert '<span class="amount" id="amount">90,486 JPY</span>' in shown


@pytest.mark.slow  # starts a process
def test_the_catalog_list_shows_yen_without_decimals(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env["SEATFLOW_DATA_DIR"] = str(tmp_path)
    assert seatflow("db", "upgrade", env=env).returncode == 0
    catalog = tmp_path / "yen.json"
    catalog.write_text(json.dumps([*YEN[:1], builders.CATALOG[1] | {"currency": "kwd"}]))
    assert seatflow("catalog", "import", str(catalog), env=env).returncode == 0
    listed = seatflow("catalog", "list", env=env).stdout
    assert "10,000 JPY" in listed and "100.000 KWD" in listed


def test_the_operator_drift_chart_labels_yen_without_decimals() -> None:
    from api.charts import drift_chart
    from services.operations import DriftPoint

    at = datetime(2022, 1, 11, tzinfo=UTC)
    chart = drift_chart([DriftPoint(at, "upg_1", 1200, "jpy"), DriftPoint(at, "upg_2", -5, "jpy")])
    assert chart is not None
    assert (chart.top_label, chart.bottom_label) == ("+1,200", "-5")
    assert chart.dots[0].label.endswith("upg_1: +1,200 JPY")
