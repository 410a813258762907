"""`invoice.paid` is believed only for the upgrade's own invoice: its customer, currency,
livemode and exact amount. Anything else is recorded as drift, counted, and never applied."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from adapters.orm import drift_records
from config.metrics import PAYMENT_DRIFT
from domain.upgrades import UpgradeState
from services import stripe_events, upgrade_payment
from tests.builders import invoice_event, store_event
from tests.unit.services.test_upgrade_payment import estimate, submit, subscription


def paid_event(upgrade, **changes):
    event = invoice_event("invoice.paid", f"in_{upgrade.id}", upgrade.id, 90486)
    invoice = event["data"]["object"]
    for name, value in changes.items():
        invoice[name] = value
    if "amount_paid" in changes:
        invoice["amount_due"] = changes["amount_paid"]
    return event


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"customer": "cus_other"}, "customer"),
        ({"id": "in_other"}, "invoice"),
        ({"amount_paid": 1}, "amount"),
        ({"currency": "eur"}, "currency"),
        ({"livemode": True}, "livemode"),
    ],
)
def test_an_invoice_paid_that_is_not_the_upgrades_own_is_drift(
    engine, uow, deps, world, changes, reason
) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    assert upgrade_payment.charge_upgrade(upgrade.id, uow, deps) == "awaiting_payment"
    before = PAYMENT_DRIFT.labels(reason)._value.get()

    event = paid_event(upgrade, **changes)
    assert stripe_events.process_stripe_event(store_event(engine, event), uow, deps) == "ignored"

    with uow:
        assert uow.upgrades.get(upgrade.id).state == "awaiting_payment"
    assert subscription(uow, world).interval == "month"
    assert PAYMENT_DRIFT.labels(reason)._value.get() == before + 1
    with engine.connect() as conn:
        rows = conn.execute(select(drift_records.c.kind, drift_records.c.subject)).all()
    assert rows == [("payment", upgrade.id)]


def test_an_invoice_paid_before_any_invoice_exists_is_drift(engine, uow, deps, world) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    event = paid_event(upgrade)
    assert stripe_events.process_stripe_event(store_event(engine, event), uow, deps) == "ignored"
    assert subscription(uow, world).interval == "month"


def test_the_upgrades_own_invoice_paid_while_charging_applies_it(engine, uow, deps, world) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    with uow:  # the charge step moved it to charging; Stripe's answer is not recorded yet
        found = uow.upgrades.get(upgrade.id)
        found.record_charge(90486)
        found.move(UpgradeState.CHARGING, deps.clock.now(), "charging")
        uow.commit()
    event = paid_event(upgrade)
    assert stripe_events.process_stripe_event(store_event(engine, event), uow, deps) == "applied"
    assert subscription(uow, world).interval == "year"
