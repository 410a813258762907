"""The upgrade pages in a real browser (the machine's Chromium driven by Playwright), against
the app on loopback with a real worker, PostgreSQL, Redis and a fake Stripe server."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from cli import samples
from config.database import make_engine
from tests.builders import build_world, invoice_event
from tests.conftest import SECRET, env_for
from tests.fake_stripe import FakeStripe
from tests.support import free_port, launch_gunicorn, launch_worker, start_all, stop_all

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("SEATFLOW_SCREENSHOTS", "/tmp/seatflow-screenshots"))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is required: apt-get install chromium")
    with sync_playwright() as play:
        chromium = play.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def site(pg_settings, tmp_path, httpserver: HTTPServer):
    stripe = FakeStripe(httpserver).install()
    engine = make_engine(pg_settings)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    world = build_world(engine, start=today - timedelta(days=10))
    procs = []
    starting: list = []  # the receiver and worker, waited for with the first app

    def start(**extra: str) -> str:
        """The pages and API under gunicorn, with `extra` settings; it starts alongside the
        receiver and worker, and returns once all of them are ready."""
        env = env_for(
            pg_settings.with_overrides(data_dir=tmp_path),
            STRIPE_API_BASE=stripe.url,
            STRIPE_API_KEY="sk_test_fake",
            **extra,
        )
        port = free_port()
        procs.append(launch_gunicorn(env, port, app="api:create_app()"))
        start_all(*starting, procs[-1])
        starting.clear()
        return f"http://127.0.0.1:{port}"

    env = env_for(
        pg_settings.with_overrides(data_dir=tmp_path),
        STRIPE_API_BASE=stripe.url,
        STRIPE_API_KEY="sk_test_fake",
    )
    hook_port = free_port()
    starting += [launch_gunicorn(env, hook_port), launch_worker(env)]
    procs += starting
    yield {
        "start": start,
        "world": world,
        "stripe": stripe,
        "hook": f"http://127.0.0.1:{hook_port}/webhooks/stripe",
    }
    stop_all(procs)
    engine.dispose()


def sign_in(page, base: str, token: str) -> None:
    page.goto(f"{base}/signin")
    page.get_by_label("Your access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/subscriptions")


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def script_listens(page) -> None:
    """Wait until the upgrade form's script runs: it shows the Refresh button as it starts
    listening, and input given before that would ask for no estimate."""
    page.locator("#refresh").wait_for()


def open_upgrade(page, seats: int, annual: bool) -> None:
    row = page.locator("tr[data-license-type=node_locked]")
    row.get_by_role("link", name="Upgrade").click()
    script_listens(page)
    page.get_by_label("New total of licenses").fill(str(seats))
    if annual:
        page.get_by_label("Annual").check()
    quote = f"{seats}/{'year' if annual else 'month'}"
    # The estimate on screen (and its id in the form) is the one for these inputs.
    # Locators, not wait_for_function: the pages' CSP forbids evaluating strings.
    page.locator(f"#estimate[data-quote='{quote}']").wait_for()


def state_of(page) -> str:
    return str(page.locator("#state-name").get_attribute("data-state"))


def test_owner_upgrades_pays_and_sees_the_change_applied(browser, site) -> None:
    base = site["start"]()
    page = browser.new_page()
    sign_in(page, base, site["world"].tokens["owner"])
    shoot(page, "1-subscriptions")
    open_upgrade(page, seats=3, annual=True)
    assert "Next invoice" in page.locator("#estimate").inner_text()
    shoot(page, "2-upgrade-estimate")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/upgrades/*")
    page.locator("#state-name[data-state=awaiting_payment]").wait_for(timeout=20000)
    [charge] = site["stripe"].charges
    upgrade_id = charge["metadata"]["upgrade_id"]
    paid = invoice_event("invoice.paid", charge["id"], upgrade_id, charge["amount_paid"])
    assert samples.post(site["hook"], *samples.signed(paid, SECRET))[0] == 200
    page.locator("#state-name[data-state=applied]").wait_for(timeout=30000)
    assert page.locator("#license").is_visible()
    assert "3 seat(s), yearly" in page.locator("#license-summary").inner_text()
    shoot(page, "3-applied")
    page.get_by_role("link", name="Back to subscriptions").click()
    row = page.locator("tr[data-license-type=node_locked]")
    assert "annual" in row.inner_text()

    # Now annual and node-locked: offline licenses, one seat per machine.
    row.get_by_role("link", name="Offline licenses").click()
    page.get_by_label("Machine id").fill("build-agent-7")
    page.get_by_role("button", name="Add offline license").click()
    assert page.locator("#usage").inner_text() == "1 of 3 seat(s) used offline."
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    assert '"machine_id": "build-agent-7"' in Path(download.value.path()).read_text()
    shoot(page, "7-offline")
    page.get_by_role("button", name="Release").click()
    assert page.locator("#usage").inner_text() == "0 of 3 seat(s) used offline."


def test_a_declined_payment_shows_the_reason_and_a_way_back(browser, site) -> None:
    site["stripe"].declined_customers.add("cus_acme")
    base = site["start"]()
    page = browser.new_page()
    sign_in(page, base, site["world"].tokens["admin"])
    open_upgrade(page, seats=4, annual=False)
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/upgrades/*")
    page.locator("#state-name[data-state=payment_failed]").wait_for(timeout=20000)
    assert page.locator("#failure-reason").inner_text() == "Your card was declined."
    shoot(page, "4-declined")
    page.get_by_role("link", name="Try again").click()
    page.wait_for_url("**/upgrade/node_locked")


def test_a_member_sees_no_upgrade_button_and_is_refused(browser, site) -> None:
    base = site["start"]()
    page = browser.new_page()
    sign_in(page, base, site["world"].tokens["member"])
    row = page.locator("tr[data-license-type=node_locked]")
    assert row.get_by_role("link", name="Upgrade").count() == 0
    shoot(page, "5-member")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    status = page.evaluate(
        """async ([url, token]) => (await fetch(url, {method: 'POST',
             headers: {'Content-Type': 'application/x-www-form-urlencoded'},
             body: 'estimate_id=est_x&csrf_token=' + encodeURIComponent(token)})).status""",
        [f"{base}/orgs/{site['world'].org_id}/upgrade/node_locked/pay", token],
    )
    assert status == 403


def test_an_expired_estimate_cannot_be_paid(browser, site) -> None:
    base = site["start"](ESTIMATE_TTL_SECONDS="2")
    page = browser.new_page()
    sign_in(page, base, site["world"].tokens["owner"])
    open_upgrade(page, seats=2, annual=False)
    page.locator("#expired").wait_for(timeout=10000)
    assert page.get_by_role("button", name="Pay").is_disabled()
    shoot(page, "6-expired")
    # Even a form sent anyway is refused by the server, which shows a fresh estimate of the
    # same choice, the inputs kept.
    # Enabled and clicked in one script: the page's own expiry check, which runs on a timer,
    # would otherwise disable it again between two steps.
    with page.expect_navigation():
        page.evaluate("(b => { b.disabled = false; b.click(); })(document.getElementById('pay'))")
    page.wait_for_url("**/upgrade/node_locked?estimate=est_*")
    assert "expired" in page.locator(".notice.error").inner_text()
    assert page.get_by_label("New total of licenses").input_value() == "2"
    assert page.locator("#amount").inner_text().endswith("USD")
    shoot(page, "6-fresh-estimate")
    assert site["stripe"].charges == []
