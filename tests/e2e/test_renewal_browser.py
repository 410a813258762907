"""A change at renewal in a real browser (the machine's Chromium driven by Playwright)
against the app, receiver and worker on loopback, PostgreSQL, Redis and the stateful fake
Stripe, whose signed events are delivered as Stripe delivers them: the owner schedules fewer
seats and annual → monthly, sees it pending with its date and the next invoice, the model's
clock passes the period's end, and the page shows it applied and the license changed.

Screenshots go to `var/screenshots/renewal/` (or `$SEATFLOW_SCREENSHOTS`).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from services import licenses
from tests.builders import build_world
from tests.conftest import SECRET, env_for
from tests.e2e.test_pages_browser import browser, sign_in
from tests.fakes import fake_deps
from tests.stripe_model import Deliverer, StripeServer, StripeState, add_interval
from tests.support import free_port, launch_gunicorn, launch_worker, start_all, stop_all, wait_until

__all__ = ["browser"]  # the module-scoped Chromium fixture
pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SEATFLOW_SCREENSHOTS", ROOT / "var" / "screenshots")) / "renewal"
EVENTS = (
    "customer.subscription.*",
    "invoice.paid",
    "invoice.payment_failed",
    "subscription_schedule.*",
)


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def site(pg_settings, tmp_path):
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=10)
    with StripeServer(StripeState()) as stripe:
        state = stripe.state
        state.create_price("price_node_locked_month", unit_amount=10000, interval="month")
        customer = state.create_customer("succeeds")["id"]
        sub = state.create_subscription(
            customer,
            "price_node_locked_year",
            unit_amount=100000,
            interval="year",
            quantity=5,
            period_start=int(start.timestamp()),
        )
        engine = make_engine(pg_settings)
        world = build_world(
            engine, customer=customer, sub_id=sub["id"], start=start, seats=5, interval="year"
        )
        _first_license(engine, world.org_id)
        env = env_for(
            pg_settings.with_overrides(data_dir=tmp_path),
            STRIPE_API_BASE=stripe.url,
            STRIPE_API_KEY="sk_test_fake",
        )
        hook, api = free_port(), free_port()
        procs = start_all(
            launch_gunicorn(env, hook),
            launch_worker(env),
            launch_gunicorn(env, api, app="api:create_app()"),
        )
        deliverer = Deliverer(
            state, f"http://127.0.0.1:{hook}/webhooks/stripe", SECRET, types=EVENTS
        )
        state.events.clear()  # what came before the organization was set up
        deliverer.start()
        try:
            yield {
                "base": f"http://127.0.0.1:{api}",
                "world": world,
                "stripe": stripe,
                "customer": customer,
                "subscription": sub["id"],
                "engine": engine,
                "renewal": add_interval(int(start.timestamp()), "year"),
            }
        finally:
            deliverer.stop()
            stop_all(procs)
            engine.dispose()


def _first_license(engine, org_id: str) -> None:
    with SqlUnitOfWork(engine) as uow:
        org = uow.organizations.get(org_id, lock=True)
        assert org is not None
        sub = org.subscription_for("node_locked")
        assert sub is not None
        licenses.regenerate(uow, org, sub, "created:e2e", fake_deps())
        uow.commit()


def license_of(page, base: str, org_id: str) -> dict:
    answer = page.request.get(f"{base}/orgs/{org_id}/licenses/node_locked/file")
    assert answer.ok
    return dict(json.loads(answer.text())["license"])


def row_text(page, base: str, org_id: str) -> str:
    page.goto(f"{base}/orgs/{org_id}/subscriptions")
    return page.locator("tr[data-license-type=node_locked]").inner_text()


def seats_and_cycle(page, base: str, org_id: str) -> tuple[str, str]:
    page.goto(f"{base}/orgs/{org_id}/subscriptions")
    cells = page.locator("tr[data-license-type=node_locked] td")
    return cells.nth(2).inner_text(), cells.nth(3).inner_text()


def test_fewer_seats_and_monthly_at_renewal_pending_then_applied_with_a_new_license(
    browser, site
) -> None:
    base, world, stripe = site["base"], site["world"], site["stripe"]
    state, org = stripe.state, world.org_id
    page = browser.new_page()
    sign_in(page, base, world.tokens["owner"])
    before = license_of(page, base, org)
    assert (before["seats"], before["interval"]) == (5, "year")

    row = page.locator("tr[data-license-type=node_locked]")
    row.get_by_role("link", name="Change at renewal").click()
    page.wait_for_url("**/renewal/node_locked")
    assert "Nothing is charged or refunded now" in page.locator("#renewal-rule").inner_text()
    page.get_by_label("Total of licenses from the renewal").fill("3")
    page.get_by_role("radio", name="Monthly").check()
    shoot(page, "1-form")
    page.get_by_role("button", name="Schedule for the renewal").click()
    page.wait_for_url("**/subscriptions")
    assert "Nothing is charged or refunded now" in page.locator(".notice[role=alert]").inner_text()

    renewal_day = datetime.fromtimestamp(site["renewal"], UTC).date().isoformat()

    def scheduled() -> bool:
        page.goto(f"{base}/orgs/{org}/subscriptions")
        return page.locator("#scheduled-changes li[data-state=scheduled]").count() == 1

    wait_until(scheduled, timeout=30)
    pending = page.locator("#scheduled-changes").inner_text()
    assert f"from {renewal_day}" in pending
    assert "3 seats, monthly, standard" in pending and "300.00 USD" in pending
    assert f"{renewal_day}, 300.00 USD" in row_text(page, base, org)
    assert state.captured(customer=site["customer"]) == 0
    assert [i for i in state.all("invoice") if i["customer"] == site["customer"]] == []
    schedule_id = state.get("subscription", site["subscription"])["schedule"]
    assert state.get("subscription_schedule", schedule_id)["phases"][1]["items"] == [
        {
            "discounts": [],
            "metadata": {},
            "price": "price_node_locked_month",
            "quantity": 3,
            "tax_rates": [],
        }
    ]
    shoot(page, "2-pending")

    state.advance(site["renewal"] - state.now() + 60)  # Stripe renews into the new phase

    assert seats_and_cycle(page, base, org) == ("5", "annual")
    wait_until(lambda: seats_and_cycle(page, base, org) == ("3", "monthly"), timeout=60)
    assert page.locator("#scheduled-changes").count() == 0
    after = license_of(page, base, org)
    assert (after["seats"], after["interval"], after["version"]) == (3, "month", 2)
    assert after["cause"].startswith("scheduled_change:chg_")
    latest = state.get("subscription", site["subscription"])["latest_invoice"]
    renewal = state.get("invoice", latest)
    assert (renewal["billing_reason"], renewal["total"], renewal["amount_paid"]) == (
        "subscription_cycle",
        30000,
        30000,
    )
    assert state.captured(customer=site["customer"]) == 30000
    wait_until(lambda: state.get("subscription_schedule", schedule_id)["status"] == "released")
    shoot(page, "3-applied")
