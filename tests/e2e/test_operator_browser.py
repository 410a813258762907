"""The operator pages in a real browser (the machine's Chromium driven by Playwright): the
api app under gunicorn on PostgreSQL and Redis, a dead event and reconciliation records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from services import admin
from tests.builders import build_world, store_event, subscription_event
from tests.conftest import env_for
from tests.e2e.test_pages_browser import browser, shoot  # noqa: F401  (a fixture)
from tests.support import free_port, start_gunicorn

pytestmark = pytest.mark.slow


def seed(engine) -> tuple[str, str]:
    """An operator's token and the id of a dead event; drift from two reconciliation runs."""
    now = datetime.now(UTC).replace(microsecond=0)  # read when the test runs
    world = build_world(engine)
    uow = SqlUnitOfWork(engine)
    operator = admin.add_member(uow, world.org_id, "ops@acme.example", "operator")
    token = admin.create_token(uow, operator["id"])["token"]
    event = subscription_event("cus_acme", sub_id="sub_dead")
    event["id"] = "evt_browser_dead"
    store_event(engine, event)
    with SqlUnitOfWork(engine) as work:
        work.inbox.mark(event["id"], "dead", now, error="organization_not_found: cus_x")
        for at, subject, estimate, charged in (
            (now - timedelta(hours=1), "upg_a", 90486, 90480),
            (now, "upg_b", 1000, 1012),
        ):
            work.drift.record(
                at,
                kind="estimate",
                subject=subject,
                cause="3 min between estimate and charge",
                estimate_amount=estimate,
                charged_amount=charged,
                currency="usd",
            )
        work.commit()
    return token, event["id"]


@pytest.fixture
def site(pg_settings, tmp_path):
    engine = make_engine(pg_settings)
    token, event_id = seed(engine)
    env = env_for(pg_settings.with_overrides(data_dir=tmp_path), STRIPE_API_KEY="sk_test_fake")
    port = free_port()
    api = start_gunicorn(env, port, app="api:create_app()")
    yield f"http://127.0.0.1:{port}", token, event_id, engine
    api.stop()
    engine.dispose()


def test_an_operator_redrives_a_dead_event_and_sees_the_drift_chart(browser, site) -> None:  # noqa: F811
    base, token, event_id, engine = site
    page = browser.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)

    page.goto(f"{base}/signin")
    page.get_by_label("Your access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/operator")
    row = page.locator(f"#dead-events tr[data-event-id='{event_id}']")
    row.wait_for()
    assert "organization_not_found: cus_x" in row.inner_text()
    assert page.locator("#inbox-counts td[data-state=dead]").inner_text() == "1"
    shoot(page, "operator-inbox")

    row.get_by_role("button", name="Redrive").click()
    page.get_by_role("alert").wait_for()
    assert row.count() == 0
    assert page.locator("#inbox-counts td[data-state=dead]").inner_text() == "0"
    with SqlUnitOfWork(engine) as uow:
        assert uow.inbox.state_of(event_id) == "received"

    page.get_by_role("link", name="Reconciliation").click()
    page.wait_for_url("**/operator/reconciliation")
    chart = page.locator("svg#drift-chart")
    chart.wait_for()
    assert chart.locator("circle.drift-point").count() == 2
    assert chart.locator("polyline").count() == 1
    assert page.locator("section[data-run]").count() == 2
    shoot(page, "operator-reconciliation")
    assert not refused, refused
    page.close()
