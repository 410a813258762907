"""Behaviours of the upgrade saga and the licenses that a change could break quietly: who may
cancel, the refund of a payment for a canceled upgrade, a trial's end, a tier-only change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import errors
from domain.commands import CancelUpgrade
from services import admin
from services.upgrades import charge as upgrade_charge
from services.upgrades import payment as upgrade_payment
from services.upgrades import request as upgrade_request
from services.upgrades import steps as upgrade_steps
from tests.builders import build_world, store_event, subscription_event
from tests.unit.services.test_licenses import process, versions, world_with
from tests.unit.services.test_upgrade_payment import (
    estimate,
    pay,
    submit,
    subscription,
)
from tests.unit.services.test_upgrade_tiers import TIERS

TRIAL_END = datetime(2022, 2, 1, tzinfo=UTC)


def state_of(uow, upgrade_id: str):
    with uow:
        return uow.upgrades.get(upgrade_id)


def test_a_member_cannot_cancel_an_upgrade(uow, deps, world, gateway) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    cmd = CancelUpgrade(world.org_id, world.member["id"], upgrade.id)
    with pytest.raises(errors.NotOwnerOrAdmin):
        upgrade_request.cancel_upgrade(cmd, uow, deps)
    assert state_of(uow, upgrade.id).state == "awaiting_payment"
    assert gateway.voided == []


def test_a_removed_admin_cannot_cancel_an_upgrade(uow, deps, world, gateway) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    admin.remove_member(uow, world.admin["id"])
    cmd = CancelUpgrade(world.org_id, world.admin["id"], upgrade.id)
    with pytest.raises(errors.NotOwnerOrAdmin):
        upgrade_request.cancel_upgrade(cmd, uow, deps)
    assert state_of(uow, upgrade.id).state == "requested"


def test_a_payment_for_an_upgrade_canceled_meanwhile_is_refunded_after_invoice_paid(
    uow, deps, world, gateway, sent
) -> None:
    """Stripe voided the canceled upgrade's invoice as asked, yet its invoice.paid arrives
    (a payment on the hosted page that crossed the void): nothing is applied, the payment is
    recorded and a refund task is sent after the commit; it gives back what the card paid,
    once."""
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "awaiting_payment"
    cancel = CancelUpgrade(world.org_id, world.owner["id"], upgrade.id)
    assert upgrade_request.cancel_upgrade(cancel, uow, deps).state == "canceled"
    assert gateway.voided == [f"in_{upgrade.id}"]

    assert pay(uow, deps, upgrade.id, 90486) == "applied"
    assert gateway.refunds == []  # no Stripe call under the lock
    assert ("seatflow.refund_upgrade", [upgrade.id]) in sent
    assert upgrade_steps.refund_upgrade(upgrade.id, uow, deps) == "refunded"

    assert gateway.refunds == [(f"in_{upgrade.id}", 90486)]
    done = state_of(uow, upgrade.id)
    assert (done.state, done.refunded_amount, done.paid_amount) == ("refunded", 90486, 90486)
    sub = subscription(uow, world)
    assert (sub.seats, sub.interval) == (1, "month")  # nothing applied
    assert pay(uow, deps, upgrade.id, 90486) == "applied"  # a replay refunds nothing more
    assert upgrade_steps.refund_upgrade(upgrade.id, uow, deps) == "refunded"
    assert gateway.refunds == [(f"in_{upgrade.id}", 90486)]


def test_in_trial_monthly_to_annual_keeps_the_trials_end(uow, deps, gateway) -> None:
    world = build_world(uow, customer="cus_trial", status="trialing")
    e = estimate(uow, deps, world, seats=1, interval="year")
    assert (e.amount, e.trial) == (0, True)
    upgrade, _ = submit(uow, deps, world, e.id)
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "applied"
    sub = subscription(uow, world)
    assert (sub.interval, sub.status) == ("year", "trialing")
    assert sub.current_period_end == TRIAL_END  # Stripe still trials until then
    with uow:
        issued = uow.licenses.current(world.org_id, "node_locked")
    assert (issued.interval, issued.valid_until) == ("year", TRIAL_END + deps.license_grace)
    assert upgrade_payment.push_upgrade(upgrade.id, uow, deps)
    assert gateway.changes[0].prepaid_until is None


def test_a_snapshot_that_changes_only_the_tier_issues_a_new_license_version(uow, deps) -> None:
    admin.import_catalog(uow, TIERS)
    world = world_with(uow, deps, seats=2)
    event = subscription_event("cus_lic", seats=2, created=1_641_000_000)
    event["type"] = "customer.subscription.updated"
    event["data"]["object"]["items"]["data"][0]["price"]["id"] = "price_node_locked_pro_month"
    assert process(uow, deps, event) == "applied"
    assert versions(uow, world) == [
        (1, "superseded", "created", 2),
        (2, "current", "stripe_sync", 2),
    ]
    with uow:
        current = uow.licenses.current(world.org_id, "node_locked")
    assert (current.tier, current.seats, current.interval) == ("professional", 2, "month")


def test_a_refund_gives_back_the_card_part_and_credits_back_the_balance_part(
    uow, deps, world, gateway, sent
) -> None:
    """Paid partly from the customer's credit balance, for an upgrade no longer wanted:
    Stripe refunds only what the card paid, so the rest goes back to the balance."""
    from tests.builders import invoice_event

    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "awaiting_payment"
    cancel = CancelUpgrade(world.org_id, world.owner["id"], upgrade.id)
    upgrade_request.cancel_upgrade(cancel, uow, deps)
    event = invoice_event("invoice.paid", f"in_{upgrade.id}", None, 90486)
    event["data"]["object"]["amount_paid"] = 40486  # 500.00 came from the balance
    from services import stripe_events

    assert stripe_events.process_stripe_event(store_event(uow, event), uow, deps) == "applied"
    assert upgrade_steps.refund_upgrade(upgrade.id, uow, deps) == "refunded"
    assert upgrade_steps.refund_upgrade(upgrade.id, uow, deps) == "refunded"  # once
    assert gateway.refunds == [(f"in_{upgrade.id}", 40486)]
    assert gateway.credits == [("cus_acme", 50000)]
