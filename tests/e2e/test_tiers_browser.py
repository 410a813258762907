"""Tiers and forms without JavaScript, in a real browser (Chromium driven by Playwright)
against the app on loopback with a real worker, PostgreSQL, Redis and a fake Stripe server.
Screenshots of each state go to var/screenshots/ (kept as test artifacts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from cli import samples
from config.database import make_engine
from services import admin
from tests.builders import invoice_event
from tests.conftest import SECRET
from tests.e2e.test_pages_browser import (  # noqa: F401  (fixtures)
    browser,
    script_listens,
    sign_in,
    site,
)
from tests.unit.services.test_upgrade_tiers import TIERS

pytestmark = pytest.mark.slow
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def tiered(site, pg_settings):  # noqa: F811
    engine = make_engine(pg_settings)
    admin.import_catalog(SqlUnitOfWork(engine), TIERS)
    engine.dispose()
    return site


def pay_the_invoice(site) -> None:  # noqa: F811
    charge = site["stripe"].charges[-1]
    upgrade_id = charge["metadata"]["upgrade_id"]
    paid = invoice_event("invoice.paid", charge["id"], upgrade_id, charge["amount_paid"])
    assert samples.post(site["hook"], *samples.signed(paid, SECRET))[0] == 200


def test_owner_moves_to_a_higher_tier_and_the_table_shows_it(browser, tiered) -> None:  # noqa: F811
    base = tiered["start"]()
    page = browser.new_page()
    sign_in(page, base, tiered["world"].tokens["owner"])
    row = page.locator("tr[data-license-type=node_locked]")
    assert row.locator("td.tier").inner_text() == "standard"
    row.get_by_role("link", name="Upgrade").click()
    tiers = page.locator("#tiers").inner_text()
    assert "200.00 USD per seat a month, 2,000.00 USD per seat a year" in tiers
    assert "4,000.00 USD per seat a year" in tiers
    script_listens(page)
    page.get_by_role("radio", name="Annual").check()
    page.get_by_role("radio", name="Professional").check()
    page.locator("#estimate[data-quote='1/year'][data-tier=professional]").wait_for()
    assert "recomputed at payment and may differ slightly" in page.inner_text("#upgrade")
    shoot(page, "tier-1-estimate")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/upgrades/*")
    assert page.locator("#tier-change").inner_text() == "standard → professional"
    page.locator("#state-name[data-state=awaiting_payment]").wait_for(timeout=20000)
    pay_the_invoice(tiered)
    page.locator("#state-name[data-state=applied]").wait_for(timeout=30000)
    shoot(page, "tier-2-applied")
    page.get_by_role("link", name="Back to subscriptions").click()
    row = page.locator("tr[data-license-type=node_locked]")
    assert row.locator("td.tier").inner_text() == "professional"
    shoot(page, "tier-3-subscriptions")


def test_the_upgrade_form_submits_without_javascript(browser, tiered) -> None:  # noqa: F811
    base = tiered["start"]()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, base, tiered["world"].tokens["owner"])  # the sign-in form: a plain post
    page.locator("tr[data-license-type=node_locked]").get_by_role("link", name="Upgrade").click()
    page.get_by_label("New total of licenses").fill("2")
    page.get_by_role("radio", name="Professional").check()
    shoot(page, "nojs-1-form")
    page.get_by_role("button", name="Show the estimate").click()
    page.wait_for_url("**?estimate=est_*")
    assert page.locator("#amount").inner_text().endswith("USD")
    assert page.get_by_label("New total of licenses").input_value() == "2"
    assert page.get_by_role("radio", name="Professional").is_checked()
    shoot(page, "nojs-2-estimate")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/upgrades/upg_*")
    assert page.locator("#tier-change").inner_text() == "standard → professional"
    for _ in range(40):  # no script polls: the person reloads
        if page.locator("#state-name").get_attribute("data-state") == "awaiting_payment":
            break
        page.get_by_role("link", name="Reload to see the state now").click()
        page.wait_for_timeout(500)
    assert page.locator("#state-name").get_attribute("data-state") == "awaiting_payment"
    shoot(page, "nojs-3-state")
    page.get_by_role("button", name="Sign out").click()  # a plain post too
    page.wait_for_url("**/signin")
    context.close()
