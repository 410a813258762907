"""The pages' layout in Chromium at a phone's width (390 px) and a laptop's (1280 px): no page
scrolls sideways, the actions of a row line up with it, the history shows every column.

The app runs in this process (SQLite, the fake gateway) on loopback; screenshots are written
to $SEATFLOW_SCREENSHOTS (default /tmp/seatflow-screenshots) to look at."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from adapters.unit_of_work import SqlUnitOfWork
from domain.commands import RequestEstimate, SubmitUpgrade
from services.upgrades import request as upgrade_request
from tests.e2e.test_pages_browser import browser, shoot, sign_in  # noqa: F401 (the fixture)
from tests.unit.api.test_billing_pages import paid_upgrade, site  # noqa: F401 (the fixture)
from tests.unit.api.test_pages import _failed_upgrade
from tests.unit.services.test_upgrade_tiers import TIERS

pytestmark = pytest.mark.slow
PHONE, LAPTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 800}


@pytest.fixture
def served(site) -> Iterator[dict[str, Any]]:  # noqa: F811
    """A history with a paid upgrade (its invoice), a declined one and a tier change."""
    app, world, _, apply = site
    engine = app.extensions["seatflow"].engine
    from services import admin

    admin.import_catalog(SqlUnitOfWork(engine), TIERS)
    _failed_upgrade(app.test_client(), world, {"decline": "Your card was declined."})
    app.extensions["seatflow"].deps.gateway.decline = None
    paid_upgrade(app, world, apply)
    deps, uow = app.extensions["seatflow"].deps, SqlUnitOfWork(engine)
    cmd = RequestEstimate(
        world.org_id, world.owner["id"], "node_locked", 8, "year", tier="enterprise"
    )
    estimate = upgrade_request.request_estimate(cmd, uow, deps)
    upgrade_request.submit_upgrade(
        SubmitUpgrade(world.org_id, world.owner["id"], estimate.id), uow, deps
    )
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"base": f"http://127.0.0.1:{server.server_port}", "world": world}
    server.shutdown()


def page_at(browser, size: dict[str, int], served: dict[str, Any]):  # noqa: F811
    page = browser.new_page(viewport=size)
    sign_in(page, served["base"], served["world"].tokens["owner"])
    return page


def overflow(page) -> int:
    """How far the document is wider than the window (0: no sideways scroll)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_no_page_scrolls_sideways_on_a_phone(browser, served) -> None:  # noqa: F811
    page = page_at(browser, PHONE, served)
    org = served["world"].org_id
    for name, path in (
        ("subscriptions", f"/orgs/{org}/subscriptions"),
        ("history", f"/orgs/{org}/history"),
        ("upgrade", f"/orgs/{org}/upgrade/node_locked"),
        ("offline", f"/orgs/{org}/offline/node_locked"),
        ("renewal", f"/orgs/{org}/renewal/node_locked"),
    ):
        page.goto(served["base"] + path)
        shoot(page, f"layout-390-{name}")
        assert overflow(page) <= 0, name
    page.goto(f"{served['base']}/orgs/{org}/history")
    page.locator("#upgrades tbody a").first.click()
    page.wait_for_url("**/upgrades/*")
    shoot(page, "layout-390-upgrade-state")
    assert overflow(page) <= 0, "upgrade state"


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"] - 1
        and inner["y"] >= outer["y"] - 1
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1
    )


def test_the_actions_of_a_subscription_line_up_with_its_row(browser, served) -> None:  # noqa: F811
    for size in (LAPTOP, PHONE):
        page = page_at(browser, size, served)
        shoot(page, f"layout-{size['width']}-subscriptions")
        row = page.locator("tr[data-license-type=node_locked]")
        box = row.bounding_box()
        first, actions = (
            row.locator("td").first.bounding_box(),
            row.locator("td.actions").bounding_box(),
        )
        assert box and first and actions
        assert inside(actions, box), size
        if size is LAPTOP:  # one line: the actions cell spans its row like every other cell
            assert abs(first["y"] - actions["y"]) <= 1, size
            assert abs(first["height"] - actions["height"]) <= 1, size


def test_the_history_shows_every_column_on_a_laptop(browser, served) -> None:  # noqa: F811
    page = page_at(browser, LAPTOP, served)
    page.goto(f"{served['base']}/orgs/{served['world'].org_id}/history")
    shoot(page, "layout-1280-history")
    box = page.locator(".scroll").bounding_box()
    assert box
    for name in ("Drift", "Discount", "Invoice", "Charged"):
        cell = page.locator("#upgrades th", has_text=name).bounding_box()
        assert cell, name
        assert cell["x"] >= box["x"] and cell["x"] + cell["width"] <= box["x"] + box["width"] + 1, (
            name
        )
    assert "standard → enterprise" in page.locator("#upgrades").inner_text()
