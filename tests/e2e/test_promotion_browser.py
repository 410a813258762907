"""A Stripe promotion code on the upgrade page, in a real browser (the machine's Chromium
driven by Playwright) against the app, receiver and worker on loopback, PostgreSQL, Redis
and the stateful fake Stripe: the estimate shows Stripe's discount, and Stripe captures
exactly the discounted amount. Webhooks are signed deliveries.

Screenshots go to `var/screenshots/promotion/` (or `$SEATFLOW_SCREENSHOTS`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from domain.discounts import percent_of
from domain.money import format_money
from tests.builders import build_world
from tests.conftest import SECRET, env_for
from tests.e2e.test_pages_browser import browser, script_listens, sign_in
from tests.stripe_model import Deliverer, StripeServer, StripeState
from tests.support import free_port, launch_gunicorn, launch_worker, start_all, stop_all

__all__ = ["browser"]  # the module-scoped Chromium fixture
pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SEATFLOW_SCREENSHOTS", ROOT / "var" / "screenshots")) / "promotion"


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def site(pg_settings, tmp_path):
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=10)
    with StripeServer(StripeState()) as stripe:
        state = stripe.state
        customer = state.create_customer("succeeds")["id"]
        sub = state.create_subscription(
            customer,
            "price_node_locked_month",
            unit_amount=10000,
            period_start=int(start.timestamp()),
        )
        coupon = state.create_coupon(percent_off=33.33, name="A third off")
        promo = state.create_promotion_code(coupon["id"], "Spring33", max_redemptions=10)
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
        deliverer.types = ["invoice.paid", "invoice.payment_failed"]
        deliverer.start()
        try:
            yield {
                "base": f"http://127.0.0.1:{api}",
                "world": world,
                "stripe": stripe,
                "customer": customer,
                "promo": promo["id"],
                "engine": engine,
            }
        finally:
            deliverer.stop()
            stop_all(procs)
            engine.dispose()


def test_a_stripe_promotion_code_on_the_page_pays_exactly_the_discounted_amount(
    browser, site
) -> None:
    base, world, stripe = site["base"], site["world"], site["stripe"]
    state = stripe.state
    page = browser.new_page()
    sign_in(page, base, world.tokens["owner"])
    page.locator("tr[data-license-type=node_locked]").get_by_role("link", name="Upgrade").click()
    script_listens(page)
    page.get_by_label("New total of licenses").fill("3")
    page.get_by_label("Discount or promotion code").fill("spring33")
    estimate = page.locator("#estimate[data-quote='3/month']")
    estimate.get_by_text("Discount SPRING33 (Stripe promotion code)").wait_for(timeout=30000)
    shown = page.locator("#amount").inner_text()
    shoot(page, "1-estimate")

    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/upgrades/*")
    page.locator("#state-name[data-state='applied']").wait_for(timeout=30000)
    page.locator("#receipt").wait_for(timeout=10000)
    shoot(page, "2-applied")

    upgrade_id = page.url.rsplit("/", 1)[1]
    with SqlUnitOfWork(site["engine"]) as uow:
        upgrade = uow.upgrades.get(upgrade_id)
    assert upgrade is not None and upgrade.promotion_code_id == site["promo"]
    assert shown == format_money(upgrade.estimate_amount, "usd")
    invoice = state.get("invoice", upgrade.stripe_invoice_id)
    gross = invoice["subtotal"]
    discount = percent_of(gross, Fraction("33.33"))
    # What Stripe captured: the line before the discount, less Stripe's discount, to the cent.
    assert state.captured(customer=site["customer"]) == gross - discount
    assert invoice["total"] == invoice["amount_paid"] == gross - discount
    assert (upgrade.charged_amount, upgrade.discount_amount) == (gross - discount, discount)
    [create] = stripe.requests("POST", "/v1/invoices")
    assert create.params["discounts"] == [{"promotion_code": site["promo"]}]
    [item] = stripe.requests("POST", "/v1/invoiceitems")
    assert item.params["amount"] == str(gross)
    assert state.get("promotion_code", site["promo"])["times_redeemed"] == 1
    assert format_money(gross - discount, "usd") in page.locator("#receipt").inner_text()
