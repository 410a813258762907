"""A declined upgrade, a new card through Stripe-hosted Checkout, a paid upgrade with its
receipt, and the history: in a real browser (the machine's Chromium driven by Playwright)
against the app, receiver and worker on loopback, PostgreSQL, Redis and the stateful fake
Stripe (its Checkout and hosted invoice pages included). Webhooks are signed deliveries.

Screenshots go to `var/screenshots/billing/` (or `$SEATFLOW_SCREENSHOTS`), kept after the run.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from tests.builders import build_world
from tests.conftest import SECRET, env_for
from tests.e2e.test_pages_browser import browser, sign_in
from tests.stripe_model import Deliverer, StripeServer, StripeState
from tests.support import free_port, launch_gunicorn, launch_worker, start_all, stop_all, wait_until

__all__ = ["browser"]  # the module-scoped Chromium fixture
pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SEATFLOW_SCREENSHOTS", ROOT / "var" / "screenshots")) / "billing"
EVENTS = (
    "payment_method.attached",
    "setup_intent.succeeded",
    "checkout.session.completed",
    "customer.updated",
    "invoice.paid",
    "invoice.payment_failed",
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
        customer = state.create_customer("declines")["id"]
        sub = state.create_subscription(
            customer,
            "price_node_locked_month",
            unit_amount=10000,
            period_start=int(start.timestamp()),
        )
        engine = make_engine(pg_settings)
        world = build_world(engine, customer=customer, sub_id=sub["id"], start=start)
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
        deliverer = Deliverer(state, f"http://127.0.0.1:{hook}/webhooks/stripe", SECRET)
        deliverer.types = list(EVENTS)
        deliverer.start()
        try:
            yield {
                "base": f"http://127.0.0.1:{api}",
                "world": world,
                "stripe": stripe,
                "customer": customer,
                "engine": engine,
            }
        finally:
            deliverer.stop()
            stop_all(procs)
            engine.dispose()


def open_upgrade(page, seats: int) -> None:
    """The upgrade form, once its script listens (typing earlier would ask for no estimate)."""
    page.locator("tr[data-license-type=node_locked]").get_by_role("link", name="Upgrade").click()
    page.wait_for_load_state("load")
    page.get_by_label("New total of licenses").fill(str(seats))
    # Locators, not wait_for_function: the pages' CSP forbids evaluating strings.
    page.locator(f"#estimate[data-quote='{seats}/month']").wait_for(timeout=30000)


def card_shown(page, base: str, org_id: str, last4: str) -> bool:
    page.goto(f"{base}/orgs/{org_id}/subscriptions")
    return f"ending in {last4}" in page.locator("#card-on-file").inner_text()


def wait_for_state(page, state: str, timeout: float = 60) -> None:
    try:
        page.locator(f"#state-name[data-state='{state}']").wait_for(timeout=timeout * 1000)
    except Exception as exc:  # say where the page stood instead
        shown = page.locator("#state-name").get_attribute("data-state", timeout=1000)
        raise AssertionError(f"state {shown!r}, not {state!r}, after {timeout:.0f} s") from exc


def test_a_declined_upgrade_then_a_new_card_then_a_paid_upgrade_with_its_receipt(
    browser, site
) -> None:
    base, world, state = site["base"], site["world"], site["stripe"].state
    org = world.org_id
    page = browser.new_page()
    sign_in(page, base, world.tokens["owner"])
    wait_until(lambda: card_shown(page, base, org, "0002"), timeout=30)
    shoot(page, "1-card-on-file")

    open_upgrade(page, seats=3)
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/upgrades/*")
    wait_for_state(page, "payment_failed")
    assert state.captured(customer=site["customer"]) == 0
    page.locator("#update-card").wait_for(state="visible", timeout=10000)
    shoot(page, "2-declined")

    # Stripe's hosted Checkout (setup mode): no card data passes through seatflow.
    page.locator("#update-card").get_by_role("button", name="Update payment method").click()
    page.wait_for_url(f"{site['stripe'].url}/checkout/*")
    shoot(page, "3-stripe-checkout")
    page.get_by_role("button", name="succeeds").click()
    page.wait_for_url("**/upgrades/*")
    assert "new card" in page.locator(".notice[role=alert]").inner_text()
    wait_until(lambda: card_shown(page, base, org, "4242"), timeout=30)

    def stripe_default_last4() -> str:  # the worker tells Stripe a moment after the commit
        customer = state.get("customer", site["customer"])
        card = customer["invoice_settings"]["default_payment_method"]
        return str(state.get("payment_method", card)["card"]["last4"])

    wait_until(lambda: stripe_default_last4() == "4242", timeout=30)
    shoot(page, "4-new-card")

    # "Pay again" on the declined invoice is not offered yet: a new upgrade is paid instead.
    open_upgrade(page, seats=3)
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/upgrades/*")
    wait_for_state(page, "applied")
    page.locator("#receipt").wait_for(timeout=10000)
    upgrade_id = page.url.rsplit("/", 1)[1]
    with SqlUnitOfWork(site["engine"]) as uow:
        upgrade = uow.upgrades.get(upgrade_id)
        receipt = uow.receipts.for_upgrade(upgrade_id)
    assert upgrade is not None and receipt is not None
    charged = upgrade.charged_amount
    assert charged is not None and charged > 0
    assert state.captured(customer=site["customer"]) == charged
    assert state.captured(invoice=receipt.invoice_id) == charged == receipt.amount_paid
    hosted = page.locator("#hosted-invoice").get_attribute("href")
    assert hosted == state.get("invoice", receipt.invoice_id)["hosted_invoice_url"]
    assert page.locator("#invoice-pdf").get_attribute("href") == receipt.invoice_pdf
    shoot(page, "5-receipt")
    page.locator("#hosted-invoice").click()
    page.wait_for_url(f"{site['stripe'].url}/i/**")
    assert ": paid" in page.locator("h1").inner_text()
    shoot(page, "6-stripe-invoice")

    page.goto(f"{base}/orgs/{org}/history")
    rows = page.locator("#upgrades tbody tr")
    assert rows.count() == 2
    # The declined upgrade's open invoice was voided when the new one was submitted.
    assert [rows.nth(i).locator(".state").inner_text() for i in range(2)] == [
        "applied",
        "expired",
    ]
    assert "owner@acme.example" in rows.nth(0).inner_text()
    shoot(page, "7-history")
