"""Reconciliation against a fake Stripe server, on PostgreSQL: each kind of drift is found,
repaired and recorded; a dry run changes nothing."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select, update

from adapters import drift
from adapters.orm import drift_records, subscriptions, upgrades
from adapters.stripe_gateway import StripeGateway
from adapters.unit_of_work import SqlUnitOfWork
from cli import samples
from config.database import make_engine
from domain.commands import RequestEstimate, SubmitUpgrade
from inbox.table import inbox
from services import messagebus, reconciliation
from services.upgrades import charge as upgrade_charge
from services.upgrades import payment as upgrade_payment
from services.upgrades import request as upgrade_request
from tests.builders import build_world, subscription_event
from tests.fake_stripe import FakeStripe
from tests.fakes import FixedClock, fake_deps, with_gateway

pytestmark = pytest.mark.slow
NOW = datetime(2022, 1, 11, tzinfo=UTC)


@pytest.fixture
def env(pg_settings, httpserver: HTTPServer):
    stripe = FakeStripe(httpserver).install()
    engine = make_engine(pg_settings)
    world = build_world(engine)
    sent: list = []
    uow = SqlUnitOfWork(engine, enqueue=lambda name, args: sent.append((name, args)))
    gateway = StripeGateway("sk_test", stripe.url, max_network_retries=0, read_rate=1000)
    deps = with_gateway(fake_deps(FixedClock(NOW)), gateway)
    yield engine, world, stripe, uow, deps, sent
    engine.dispose()


def stripe_subscription(seats: int, interval: str = "month") -> dict:
    return subscription_event("cus_acme", seats=seats, interval=interval)["data"]["object"]


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.scalar(select(func.count()).select_from(t))
            for t in (drift_records, inbox, upgrades)
        } | {"seats": conn.scalar(select(subscriptions.c.seats))}


def paid_upgrade(engine, world, uow, deps, stripe, paid_amount_delta: int = 0) -> str:
    estimate = upgrade_request.request_estimate(
        RequestEstimate(world.org_id, world.owner["id"], "node_locked", 1, "year"), uow, deps
    )
    later = dataclasses.replace(deps, clock=FixedClock(NOW + timedelta(minutes=9)))
    upgrade, _ = upgrade_request.submit_upgrade(
        SubmitUpgrade(world.org_id, world.owner["id"], estimate.id), uow, later
    )
    upgrade_charge.charge_upgrade(upgrade.id, uow, later)
    with uow:
        charged = uow.upgrades.get(upgrade.id).charged_amount
        invoice_id = uow.upgrades.get(upgrade.id).stripe_invoice_id
        from domain.commands import ConfirmInvoicePaid
        from domain.payment_methods import InvoiceFact

        upgrade_payment.confirm_invoice_paid(
            ConfirmInvoicePaid(
                InvoiceFact(
                    invoice_id=invoice_id,
                    customer_id="cus_acme",
                    status="paid",
                    total=charged + paid_amount_delta,
                    amount_paid=charged + paid_amount_delta,
                    currency="usd",
                ),
                1_700_000_000,
            ),
            uow,
            later,
        )
        messagebus.commit(uow, later)
    return upgrade.id


def test_estimate_drift_is_recorded_once_per_upgrade(env) -> None:
    engine, world, stripe, uow, deps, _ = env
    upgrade_id = paid_upgrade(engine, world, uow, deps, stripe)
    reconciliation.run_all(uow, deps, jobs=["estimate"])
    [record] = drift.rows(engine, "estimate")
    assert record["subject"] == upgrade_id
    assert record["minutes_between"] == 9
    assert record["estimate_amount"] != record["charged_amount"] == record["paid_amount"]
    assert record["cause"] == "9 min between estimate and charge"
    reconciliation.run_all(uow, deps, jobs=["estimate"])  # recorded once per upgrade
    assert len(drift.rows(engine, "estimate")) == 1


def test_a_one_cent_difference_is_payment_drift_flagged_and_not_applied(env) -> None:
    engine, world, stripe, uow, deps, _ = env
    upgrade_id = paid_upgrade(engine, world, uow, deps, stripe, paid_amount_delta=1)
    [record] = drift.rows(engine, "payment")
    assert record["subject"] == upgrade_id
    assert record["paid_amount"] == record["charged_amount"] + 1
    assert record["flagged"] is True
    assert counts(engine)["seats"] == 1
    assert reconciliation.run_all(uow, deps, jobs=["estimate"]).flagged == 0


def test_local_state_is_repaired_from_stripe_with_before_and_after(env) -> None:
    engine, _world, stripe, uow, deps, _ = env
    stripe.subscriptions["sub_acme_nl"] = stripe_subscription(seats=5)
    reconciliation.run_all(uow, deps, jobs=["stripe_state"])
    assert counts(engine)["seats"] == 5
    [record] = drift.rows(engine, "stripe_state")
    assert record["cause"] == "local state repaired from Stripe"
    assert '"seats": 1' in record["before"] and '"seats": 5' in record["after"]
    assert [r["query"].get("status") for r in stripe.requests if r["method"] == "GET"] == ["all"]


def test_a_repair_of_seats_issues_the_license_of_the_repaired_state(env) -> None:
    _engine, world, stripe, uow, deps, _ = env
    stripe.subscriptions["sub_acme_nl"] = stripe_subscription(seats=7)
    reconciliation.run_all(uow, deps, jobs=["stripe_state"])
    with uow:
        current = uow.licenses.current(world.org_id, "node_locked")
    assert current is not None
    assert (current.seats, current.status, current.cause.split(":")[0]) == (
        7,
        "current",
        "stripe_sync",
    )


def test_a_repair_from_stripe_issues_the_license_version_once(env) -> None:
    _engine, world, stripe, uow, deps, _ = env
    stripe.subscriptions["sub_acme_nl"] = stripe_subscription(seats=5, interval="year")
    reconciliation.run_all(uow, deps, jobs=["stripe_state"])
    reconciliation.run_all(uow, deps, jobs=["stripe_state"])
    with uow:
        history = uow.licenses.history(world.org_id)
    current = [lic for lic in history if lic.status == "current"]
    assert [(lic.seats, lic.interval) for lic in current] == [(5, "year")]
    assert len(history) == 1  # the repair issued it once; the second run found nothing


def test_a_stuck_saga_paid_at_stripe_issues_the_license(env) -> None:
    _engine, world, _stripe, uow, deps, _ = env
    estimate = upgrade_request.request_estimate(
        RequestEstimate(world.org_id, world.owner["id"], "node_locked", 2, "month"), uow, deps
    )
    upgrade, _ = upgrade_request.submit_upgrade(
        SubmitUpgrade(world.org_id, world.owner["id"], estimate.id), uow, deps
    )
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    later = dataclasses.replace(deps, clock=FixedClock(NOW + timedelta(hours=2)))
    reconciliation.run_all(uow, later, jobs=["sagas"])
    with uow:
        current = uow.licenses.current(world.org_id, "node_locked")
    assert (current.seats, current.cause) == (2, f"upgrade:{upgrade.id}")


def test_an_applied_upgrade_stripe_lacks_is_pushed_again(env) -> None:
    engine, world, stripe, uow, deps, sent = env
    upgrade_id = paid_upgrade(engine, world, uow, deps, stripe)
    sent.clear()
    stripe.subscriptions["sub_acme_nl"] = stripe_subscription(seats=1)  # still the old plan
    reconciliation.run_all(uow, deps, jobs=["stripe_state"])
    assert sent == [("seatflow.push_upgrade_to_stripe", [upgrade_id])]
    [record] = drift.rows(engine, "stripe_state")
    assert record["cause"] == f"Stripe lacks applied upgrade {upgrade_id}: pushed again"


def test_missed_events_are_put_in_the_inbox_as_if_delivered(env) -> None:
    engine, _world, stripe, uow, deps, sent = env
    missed = subscription_event("cus_acme", seats=4, created=1_700_000_000)
    missed["type"] = "customer.subscription.updated"
    stripe.events = [missed, samples.event("charge.succeeded", {"id": "ch_1"}, created=1)]
    stripe.undelivered = {missed["id"]}
    reconciliation.run_all(uow, deps, jobs=["missed_events"])
    with engine.connect() as conn:
        rows = dict(conn.execute(select(inbox.c.event_id, inbox.c.state)).all())
    assert rows == {missed["id"]: "received"}
    assert sent == [("seatflow.process_stripe_event", [missed["id"]])]
    reconciliation.run_all(uow, deps, jobs=["missed_events"])
    assert len(drift.rows(engine, "missed_event")) == 1


def test_a_stuck_saga_asks_stripe_for_the_invoice(env) -> None:
    engine, world, _stripe, uow, deps, _ = env
    estimate = upgrade_request.request_estimate(
        RequestEstimate(world.org_id, world.owner["id"], "node_locked", 2, "month"), uow, deps
    )
    upgrade, _ = upgrade_request.submit_upgrade(
        SubmitUpgrade(world.org_id, world.owner["id"], estimate.id), uow, deps
    )
    assert (
        upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "awaiting_payment"
    )  # fake Stripe paid it
    later = dataclasses.replace(deps, clock=FixedClock(NOW + timedelta(hours=2)))
    reconciliation.run_all(uow, later, jobs=["sagas"])
    with uow:
        assert uow.upgrades.get(upgrade.id).state == "applied"
    assert counts(engine)["seats"] == 2
    [record] = drift.rows(engine, "saga")
    assert record["cause"] == "invoice in_fake1 was paid"


def test_a_dry_run_changes_nothing(env) -> None:
    engine, world, stripe, uow, deps, sent = env
    paid_upgrade(engine, world, uow, deps, stripe)
    with engine.begin() as conn:
        conn.execute(update(upgrades).values(stripe_synced_at=NOW))
    sent.clear()
    stripe.subscriptions["sub_acme_nl"] = stripe_subscription(seats=9)
    missed = subscription_event("cus_acme", seats=4, created=1_700_000_000)
    stripe.events, stripe.undelivered = [missed], {missed["id"]}
    before = counts(engine)
    summary = reconciliation.run_all(uow, deps, dry_run=True)
    assert counts(engine) == before
    assert sent == []
    assert summary.drift == {"estimate": 1, "stripe_state": 1, "missed_event": 1}
    assert "stripe_state" in drift.render_summary(summary)


def test_the_drift_report_of_a_mixed_scenario(env) -> None:
    engine, world, stripe, uow, deps, _ = env
    paid_upgrade(engine, world, uow, deps, stripe, paid_amount_delta=1)  # payment, flagged
    stripe.subscriptions["sub_acme_nl"] = stripe_subscription(seats=7)  # Stripe state
    missed = subscription_event("cus_acme", seats=7, created=1_700_000_000)
    stripe.events, stripe.undelivered = [missed], {missed["id"]}  # missed event
    summary = reconciliation.run_all(uow, deps)
    table = drift.render(drift.rows(engine), "table")
    print("\n" + drift.render_summary(summary) + "\n\n" + table)
    kinds = sorted(r["kind"] for r in drift.rows(engine))
    assert kinds == ["missed_event", "payment", "stripe_state"]
    assert drift.render(drift.rows(engine), "csv").splitlines()[0].startswith("created_at,kind")
    assert len(json.loads(drift.render(drift.rows(engine), "json"))) == 3


def test_a_stripe_subscription_of_a_known_customer_that_seatflow_lacks_is_flagged_once(
    env,
) -> None:
    engine, _world, stripe, uow, deps, _ = env
    stripe.subscriptions["sub_acme_nl"] = stripe_subscription(seats=1)
    unknown = subscription_event("cus_acme", seats=3, sub_id="sub_acme_other")
    stripe.subscriptions["sub_acme_other"] = unknown["data"]["object"]
    stranger = subscription_event("cus_nobody", seats=3, sub_id="sub_stranger")
    stripe.subscriptions["sub_stranger"] = stranger["data"]["object"]
    for _ in range(2):
        summary = reconciliation.run_all(uow, deps, jobs=["stripe_state"])
    records = drift.rows(engine, "stripe_state")
    assert [(r["subject"], r["flagged"], r["repaired"]) for r in records] == [
        ("sub_acme_other", True, False)
    ]
    assert "seatflow has no such subscription" in records[0]["cause"]
    assert summary.drift["stripe_state"] == 1
    assert counts(engine)["seats"] == 1  # nothing taken from it


def test_a_local_subscription_stripe_no_longer_has_is_flagged_once(env) -> None:
    engine, _world, _stripe, uow, deps, _ = env
    for _ in range(2):
        summary = reconciliation.run_all(uow, deps, jobs=["stripe_state"])
    records = drift.rows(engine, "stripe_state")
    assert [(r["subject"], r["flagged"], r["repaired"]) for r in records] == [
        ("sub_acme_nl", True, False)
    ]
    assert "Stripe has no such subscription" in records[0]["cause"]
    assert summary.drift["stripe_state"] == 1


def test_a_subscription_stripe_now_bills_every_three_months_is_flagged_not_taken(env) -> None:
    engine, _world, stripe, uow, deps, _ = env
    quarterly = stripe_subscription(seats=5)
    quarterly["items"]["data"][0]["price"]["recurring"]["interval_count"] = 3
    stripe.subscriptions["sub_acme_nl"] = quarterly
    reconciliation.run_all(uow, deps, jobs=["stripe_state"])
    [record] = drift.rows(engine, "stripe_state")
    assert (record["subject"], record["flagged"], record["repaired"]) == (
        "sub_acme_nl",
        True,
        False,
    )
    assert "cannot represent" in record["cause"]
    assert counts(engine)["seats"] == 1
