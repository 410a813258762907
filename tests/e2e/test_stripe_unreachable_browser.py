"""Pay while Stripe cannot be reached, in Chromium against the app under gunicorn and a real
worker: within seconds the page says that nothing was charged and offers *Pay again*; no
exception text, no *Update payment method*."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest

from config.database import make_engine
from tests.builders import build_world
from tests.conftest import env_for
from tests.e2e.test_pages_browser import browser, open_upgrade, shoot, sign_in  # noqa: F401
from tests.support import free_port, launch_gunicorn, launch_worker, start_all, stop_all

pytestmark = pytest.mark.slow


def closed_port() -> int:
    """A loopback port nothing listens on: every connection to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def site(pg_settings, tmp_path):
    engine = make_engine(pg_settings)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    world = build_world(engine, start=today - timedelta(days=10))
    env = env_for(
        pg_settings.with_overrides(data_dir=tmp_path),
        STRIPE_API_BASE=f"http://127.0.0.1:{closed_port()}",
        STRIPE_API_KEY="sk_test_placeholder",
    )
    port = free_port()
    procs = start_all(launch_gunicorn(env, port, app="api:create_app()"), launch_worker(env))
    yield {"base": f"http://127.0.0.1:{port}", "world": world, "procs": procs}
    stop_all(procs)
    engine.dispose()


def test_pay_while_stripe_is_unreachable_says_nothing_was_charged(browser, site) -> None:  # noqa: F811
    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(page, site["base"], site["world"].tokens["owner"])
    open_upgrade(page, seats=3, annual=False)
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/upgrades/*")
    # Between the tries the page says that nothing has been charged yet.
    page.locator("#retrying").wait_for(state="visible", timeout=15_000)
    assert "Nothing has been charged" in page.locator("#retrying").inner_text()
    try:  # 5 s and 10 s between the tries, each refused at once
        page.locator("#state-name[data-state=payment_failed]").wait_for(timeout=40_000)
    except Exception:
        print("page:", page.locator("main").inner_text())
        print("worker:", site["procs"][1].output()[-6000:])
        raise
    shoot(page, "stripe-unreachable-390")
    failure = page.locator("#failure")
    assert "Nothing was charged" in failure.inner_text()
    assert "try again later" in failure.inner_text()
    text = page.locator("main").inner_text()
    for raw in ("APIConnectionError", "ConnectionError", "HTTPConnectionPool", "sk_test"):
        assert raw not in text, raw
    assert not page.get_by_role("button", name="Update payment method").is_visible()
    assert page.get_by_role("button", name="Pay again").is_visible()
    assert not page.locator("#retrying").is_visible()
