"""In Chromium, against the stateful model of Stripe: a declined payment paid again on the
same invoice after a card update, and a payment completed with 3-D Secure on Stripe's hosted
invoice page. Each asserts the cents Stripe captured on the upgrade's own invoice."""

from __future__ import annotations

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from tests.e2e.test_billing_browser import card_shown, open_upgrade, shoot, site, wait_for_state
from tests.e2e.test_pages_browser import browser, sign_in
from tests.support import wait_until

__all__ = ["browser", "site"]  # the module-scoped Chromium and the billing site fixtures
pytestmark = pytest.mark.slow


def _upgrade(site, upgrade_id: str):
    with SqlUnitOfWork(site["engine"]) as uow:
        found = uow.upgrades.get(upgrade_id)
    assert found is not None
    return found


def test_a_declined_payment_is_paid_again_on_the_same_invoice_after_a_card_update(
    browser, site
) -> None:
    base, state, org = site["base"], site["stripe"].state, site["world"].org_id
    page = browser.new_page()
    sign_in(page, base, site["world"].tokens["owner"])
    open_upgrade(page, seats=3)
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/upgrades/*")
    upgrade_url, upgrade_id = page.url, page.url.rsplit("/", 1)[1]
    wait_for_state(page, "payment_failed")
    declined_invoice = _upgrade(site, upgrade_id).stripe_invoice_id
    assert declined_invoice and state.captured(customer=site["customer"]) == 0
    shoot(page, "pay-again-1-declined")

    page.locator("#update-card").get_by_role("button", name="Update payment method").click()
    page.wait_for_url(f"{site['stripe'].url}/checkout/*")
    page.get_by_role("button", name="succeeds").click()
    page.wait_for_url(f"{base}/**")
    # The new card is the customer's default once seatflow applied Stripe's card events.
    wait_until(lambda: card_shown(page, base, org, "4242"), timeout=30)

    page.goto(upgrade_url)
    page.get_by_role("button", name="Pay again").click()
    page.wait_for_url("**/upgrades/*")
    wait_for_state(page, "applied")
    shoot(page, "pay-again-2-applied")
    upgrade = _upgrade(site, upgrade_id)
    assert upgrade.stripe_invoice_id == declined_invoice  # the same invoice, paid once
    assert upgrade.charged_amount and upgrade.charged_amount > 0
    assert state.captured(invoice=declined_invoice) == upgrade.charged_amount
    assert state.captured(customer=site["customer"]) == upgrade.charged_amount


def test_3d_secure_is_completed_on_stripes_hosted_page_and_the_upgrade_applies(
    browser, site
) -> None:
    base, state, org = site["base"], site["stripe"].state, site["world"].org_id
    page = browser.new_page()
    sign_in(page, base, site["world"].tokens["owner"])
    # The first card's events are applied before the customer adds the one that needs 3-D
    # Secure, so a late one cannot make the first the default again.
    wait_until(lambda: card_shown(page, base, org, "0002"), timeout=30)
    state.set_card(site["customer"], "requires_action")
    wait_until(lambda: card_shown(page, base, org, "3155"), timeout=30)
    open_upgrade(page, seats=2)
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/upgrades/*")
    upgrade_url, upgrade_id = page.url, page.url.rsplit("/", 1)[1]
    wait_for_state(page, "requires_action")
    assert state.captured(customer=site["customer"]) == 0
    shoot(page, "3ds-1-requires-action")

    page.locator("#complete-payment").click()
    page.wait_for_url(f"{site['stripe'].url}/i/**")
    page.get_by_role("button", name="Authenticate").click()
    assert ": paid" in page.locator("h1").inner_text()
    shoot(page, "3ds-2-stripe-authenticated")

    page.goto(upgrade_url)
    wait_for_state(page, "applied")
    shoot(page, "3ds-3-applied")
    upgrade = _upgrade(site, upgrade_id)
    assert upgrade.charged_amount and upgrade.charged_amount > 0
    assert state.captured(invoice=upgrade.stripe_invoice_id) == upgrade.charged_amount
    assert state.captured(customer=site["customer"]) == upgrade.charged_amount
