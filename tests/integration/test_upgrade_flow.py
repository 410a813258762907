"""Estimate → upgrade → Stripe invoice → signed `invoice.paid` → applied, with real processes:
gunicorn (receiver and API), `celery worker`, PostgreSQL, Redis, and a fake Stripe server."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from adapters.orm import seat_ledger, subscriptions
from cli import samples
from config.database import make_engine
from domain.cycles import cycle_end
from tests.builders import build_world, invoice_event
from tests.conftest import SECRET, env_for
from tests.fake_stripe import FakeStripe
from tests.support import free_port, launch_gunicorn, launch_worker, start_all, stop_all, wait_until

pytestmark = pytest.mark.slow


def cycle_start() -> datetime:
    """A cycle in progress today, so that the surcharge is not zero."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=10)


def call(
    method: str, url: str, token: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def system(pg_settings, tmp_path: Path, httpserver: HTTPServer):
    stripe = FakeStripe(httpserver).install()
    engine = make_engine(pg_settings)
    start = cycle_start()
    world = build_world(engine, start=start)
    env = env_for(
        pg_settings.with_overrides(data_dir=tmp_path),
        STRIPE_API_BASE=stripe.url,
        STRIPE_API_KEY="sk_test_fake",
        TASK_MAX_RETRIES="3",
    )
    web_port, api_port = free_port(), free_port()
    procs = start_all(
        launch_gunicorn(env, web_port, app="webhooks:create_app()"),
        launch_gunicorn(env, api_port, app="api:create_app()"),
        launch_worker(env),
    )
    yield {
        "engine": engine,
        "world": world,
        "start": start,
        "stripe": stripe,
        "api": f"http://127.0.0.1:{api_port}/api/v1/organizations/{world.org_id}",
        "hook": f"http://127.0.0.1:{web_port}/webhooks/stripe",
    }
    stop_all(procs)
    engine.dispose()


def upgrade_state(system, upgrade_id: str) -> dict[str, Any]:
    token = system["world"].tokens["owner"]
    return call("GET", f"{system['api']}/upgrades/{upgrade_id}", token)[1]


def submit(system, seats: int = 3, interval: str = "year") -> dict[str, Any]:
    token = system["world"].tokens["owner"]
    status, estimate = call(
        "POST",
        f"{system['api']}/estimates",
        token,
        {"license_type": "node_locked", "seats": seats, "interval": interval},
    )
    assert status == 201, estimate
    status, upgrade = call(
        "POST",
        f"{system['api']}/upgrades",
        token,
        {"estimate_id": estimate["id"]},
        {"Idempotency-Key": "flow-1"},
    )
    assert status == 202, upgrade
    return upgrade


def deliver(system, event: dict[str, Any]) -> int:
    return samples.post(system["hook"], *samples.signed(event, SECRET))[0]


def seats(system) -> tuple[int, str]:
    with system["engine"].connect() as conn:
        return tuple(conn.execute(select(subscriptions.c.seats, subscriptions.c.interval)).one())


def test_the_full_flow_applies_only_after_a_signed_invoice_paid(system) -> None:
    upgrade = submit(system)
    wait_until(lambda: upgrade_state(system, upgrade["id"])["state"] == "awaiting_payment", 30)
    shown = upgrade_state(system, upgrade["id"])
    [charge] = system["stripe"].charges
    assert charge["amount_paid"] == shown["amount_due"] > 0
    assert shown["charged_amount"] is None  # invoiced, not yet reported paid
    assert charge["metadata"] == {
        "organization_id": system["world"].org_id,
        "upgrade_id": upgrade["id"],
    }
    assert seats(system) == (1, "month")  # requested and charged, not yet confirmed

    invoice = shown["stripe_invoice_id"]
    assert deliver(system, invoice_event("invoice.created", invoice, upgrade["id"], 1)) == 200
    paid = invoice_event("invoice.paid", invoice, upgrade["id"], shown["amount_due"])
    assert deliver(system, paid) == 200
    wait_until(lambda: upgrade_state(system, upgrade["id"])["state"] == "applied", 30)
    assert seats(system) == (3, "year")
    wait_until(lambda: system["stripe"].subscription_updates, 30)
    [update] = system["stripe"].subscription_updates
    assert (update["id"], update["items[0][price]"], update["items[0][quantity]"]) == (
        "sub_acme_nl",
        "price_node_locked_year",
        "3",
    )
    assert update["proration_behavior"] == "none"
    # The new cycle, already paid by the surcharge, ends a year after the current one began.
    assert update["trial_end"] == str(int(cycle_end(system["start"], "year").timestamp()))

    # Duplicated and reordered deliveries change nothing more.
    assert deliver(system, paid) == 200
    late_failure = invoice_event("invoice.payment_failed", invoice, upgrade["id"], 1)
    late_paid_copy = invoice_event("invoice.paid", invoice, upgrade["id"], 1)
    assert deliver(system, late_failure) == 200 and deliver(system, late_paid_copy) == 200
    # A copy of another amount is not the upgrade's own payment: recorded as drift, ignored.
    wait_until(lambda: _states(system) == {"applied", "ignored"}, 30)
    with system["engine"].connect() as conn:
        causes = list(conn.scalars(select(seat_ledger.c.cause)))
    assert causes.count("upgrade") == 1
    assert upgrade_state(system, upgrade["id"])["state"] == "applied"
    assert len(system["stripe"].charges) == 1


def _states(system) -> set[str]:
    from inbox.table import inbox

    with system["engine"].connect() as conn:
        return set(conn.scalars(select(inbox.c.state).where(inbox.c.type != "invoice.created")))


def test_a_declined_payment_leaves_seats_unchanged(system) -> None:
    system["stripe"].declined_customers.add("cus_acme")
    upgrade = submit(system)
    wait_until(lambda: upgrade_state(system, upgrade["id"])["state"] == "payment_failed", 30)
    assert upgrade_state(system, upgrade["id"])["failure_reason"] == "Your card was declined."
    assert seats(system) == (1, "month")
    assert system["stripe"].charges == []


def test_a_task_retried_after_the_stripe_call_charges_once(system) -> None:
    # Stripe takes the payment but its answer is lost three times: the SDK's own two retries
    # fail too, the task fails and Celery runs it again, replaying every step's key.
    system["stripe"].lose_answers["/v1/invoices/in_fake1/pay"] = 3
    upgrade = submit(system)
    wait_until(lambda: upgrade_state(system, upgrade["id"])["state"] == "awaiting_payment", 60)
    pays = [r["key"] for r in system["stripe"].requests if r["path"].endswith("/pay")]
    assert pays == [f"seatflow-upgrade-{upgrade['id']}-pay"] * 4
    creates = [r["key"] for r in system["stripe"].requests if r["path"] == "/v1/invoices"]
    # The invoice was recorded before it was paid: the second run pays it, makes no other.
    assert creates == [f"seatflow-upgrade-{upgrade['id']}-invoice"]
    assert len(system["stripe"].charges) == 1
    assert upgrade_state(system, upgrade["id"])["stripe_invoice_id"] == "in_fake1"
