"""`invoice.paid` is believed only for the upgrade's own invoice: the invoice id seatflow
recorded, of the organization's customer, paid for its exact total in the upgrade's currency
and mode. An invoice of another customer or another upgrade is not ours (ignored with the
reason, counted); a paid invoice of the upgrade that does not pay it in full is drift."""

from __future__ import annotations

import pytest

from config.metrics import NOT_OURS, PAYMENT_DRIFT
from services import stripe_events
from services.upgrades import charge as upgrade_charge
from tests.builders import invoice_event, store_event
from tests.unit.services.test_upgrade_payment import estimate, submit, subscription


def paid_event(upgrade, **changes):
    event = invoice_event("invoice.paid", f"in_{upgrade.id}", upgrade.id, 90486)
    invoice = event["data"]["object"]
    for name, value in changes.items():
        invoice[name] = value
    if "total" in changes:
        invoice["amount_due"] = invoice["amount_paid"] = changes["total"]
    return event


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"total": 1}, "amount"),
        ({"status": "open"}, "status"),
        ({"currency": "eur"}, "currency"),
        ({"livemode": True}, "livemode"),
    ],
)
def test_an_invoice_paid_that_is_not_the_upgrades_own_is_drift(
    uow, deps, world, changes, reason
) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "awaiting_payment"
    before = PAYMENT_DRIFT.labels(reason)._value.get()

    event = paid_event(upgrade, **changes)
    assert stripe_events.process_stripe_event(store_event(uow, event), uow, deps) == "ignored"

    with uow:
        assert uow.upgrades.get(upgrade.id).state == "awaiting_payment"
    assert subscription(uow, world).interval == "month"
    assert PAYMENT_DRIFT.labels(reason)._value.get() == before + 1
    rows = [(r["kind"], r["subject"]) for r in uow.drift.records]
    assert rows == [("payment", upgrade.id)]


def test_an_invoice_paid_before_any_invoice_exists_is_drift(uow, deps, world) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    event = paid_event(upgrade)
    assert stripe_events.process_stripe_event(store_event(uow, event), uow, deps) == "ignored"
    assert subscription(uow, world).interval == "month"


@pytest.mark.parametrize(
    "changes, kind",
    [({"customer": "cus_other"}, "customer"), ({"id": "in_other"}, "invoice")],
)
def test_an_invoice_that_is_not_the_upgrades_is_not_ours_and_touches_nothing(
    uow, deps, world, changes, kind
) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "awaiting_payment"
    before = NOT_OURS.labels(kind)._value.get()

    event = paid_event(upgrade, **changes)
    event_id = store_event(uow, event)
    assert stripe_events.process_stripe_event(event_id, uow, deps) == "ignored"

    with uow:
        assert uow.upgrades.get(upgrade.id).state == "awaiting_payment"
        assert uow.receipts.for_upgrade(upgrade.id) is None
        assert uow.inbox.full_row(event_id)["last_error"].startswith("not applied: ")
    assert subscription(uow, world).interval == "month"
    assert NOT_OURS.labels(kind)._value.get() == before + 1


def test_the_invoice_is_recorded_before_stripe_is_asked_to_pay_it(
    uow, deps, world, gateway
) -> None:
    """Every payment event of the invoice then finds its upgrade by the recorded id."""
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    recorded: list[str | None] = []
    pay = gateway.pay_invoice

    def pay_and_look(**kwargs):
        with uow:
            recorded.append(uow.upgrades.get(upgrade.id).stripe_invoice_id)
        return pay(**kwargs)

    gateway.pay_invoice = pay_and_look
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    assert recorded == [f"in_{upgrade.id}"]


def test_a_credit_balance_or_a_sub_minimum_invoice_paid_for_its_total_applies_it(
    uow, deps, world
) -> None:
    """Stripe took the balance first, or marked a small invoice paid with nothing captured:
    the invoice says paid for its total, so the upgrade applies."""
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    event = paid_event(upgrade, amount_paid=0)
    assert stripe_events.process_stripe_event(store_event(uow, event), uow, deps) == "applied"
    assert subscription(uow, world).interval == "year"


@pytest.mark.parametrize(
    "event_type",
    ["invoice.paid", "invoice.payment_failed", "invoice.payment_action_required"],
)
def test_another_customers_invoice_naming_this_upgrade_in_metadata_changes_nothing(
    uow, deps, world, event_type
) -> None:
    """Customer B's invoice event whose metadata names A's upgrade (forged by content, or a
    dashboard edit): A's upgrade keeps its state, invoice, payment link and receipt."""
    from services import admin

    admin.create_organization(uow, "Beta", customer="cus_beta")
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "awaiting_payment"

    forged = invoice_event(event_type, "in_beta", upgrade.id, 90486, customer="cus_beta")
    forged["data"]["object"]["hosted_invoice_url"] = "https://invoice.stripe.example/beta"
    assert stripe_events.process_stripe_event(store_event(uow, forged), uow, deps) == "ignored"

    with uow:
        found = uow.upgrades.get(upgrade.id)
        assert (found.state, found.stripe_invoice_id, found.payment_url) == (
            "awaiting_payment",
            f"in_{upgrade.id}",
            None,
        )
        assert found.failure_reason is None
        assert uow.receipts.for_upgrade(upgrade.id) is None
    # A's own payment still applies it, and keeps its own receipt.
    own = paid_event(upgrade)
    assert stripe_events.process_stripe_event(store_event(uow, own), uow, deps) == "applied"
    with uow:
        assert uow.receipts.for_upgrade(upgrade.id).invoice_id == f"in_{upgrade.id}"
