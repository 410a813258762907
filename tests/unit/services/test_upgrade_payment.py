"""The upgrade saga on the fakes of the ports: the unit of work and Stripe in memory."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from domain import errors
from domain.commands import CancelUpgrade, RequestEstimate, SubmitUpgrade
from services import admin, stripe_events
from services.upgrades import charge as upgrade_charge
from services.upgrades import payment as upgrade_payment
from services.upgrades import request as upgrade_request
from tests.builders import build_world, invoice_event, store_event
from tests.fakes import FixedClock, fake_deps

SEED_AS_OF = datetime(2022, 1, 11, tzinfo=UTC)


def estimate(uow, deps, world, role="owner", **kw):
    params = {"license_type": "node_locked", "seats": 1, "interval": "year"} | kw
    member = getattr(world, role)["id"]
    return upgrade_request.request_estimate(
        RequestEstimate(world.org_id, member, **params), uow, deps
    )


def submit(uow, deps, world, estimate_id, key=None, role="owner"):
    member = getattr(world, role)["id"]
    return upgrade_request.submit_upgrade(
        SubmitUpgrade(world.org_id, member, estimate_id, key), uow, deps
    )


def subscription(uow, world):
    with uow:
        return uow.organizations.get(world.org_id).subscriptions[0]


def ledger(uow) -> list[tuple]:
    """(seats, interval, cause) of the seat ledger, oldest first."""
    return [(e.seats, e.interval, e.cause) for _, e in uow.organizations.ledger]


def pay(uow, deps, upgrade_id, amount, invoice_id=None, created=1_641_900_000):
    event = invoice_event(
        "invoice.paid", invoice_id or f"in_{upgrade_id}", upgrade_id, amount, created=created
    )
    return stripe_events.process_stripe_event(store_event(uow, event), uow, deps)


def test_the_seed_example_estimate(uow, deps, world) -> None:
    e = estimate(uow, deps, world)
    assert (e.amount, e.currency, e.new_term, e.old_term) == (90486, "usd", 97260, 6774)
    assert (e.old_unused_minutes, e.new_unused_minutes) == (21 * 1440, 355 * 1440)
    assert e.next_invoice_at == datetime(2023, 1, 1, tzinfo=UTC)
    assert e.next_invoice_amount == 100000
    assert e.expires_at > e.computed_at == SEED_AS_OF


def test_upgrade_applies_only_after_invoice_paid(uow, deps, world, gateway, sent) -> None:
    e = estimate(uow, deps, world)
    upgrade, created = submit(uow, deps, world, e.id)
    assert created and upgrade.state == "requested"
    assert sent == [("seatflow.charge_upgrade", [upgrade.id])]
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "awaiting_payment"
    [charge] = gateway.charges
    assert (charge["amount"], charge["currency"], charge["customer_id"]) == (
        90486,
        "usd",
        "cus_acme",
    )
    assert charge["metadata"] == {"organization_id": world.org_id, "upgrade_id": upgrade.id}
    assert (subscription(uow, world).seats, subscription(uow, world).interval) == (1, "month")

    created_event = invoice_event("invoice.created", f"in_{upgrade.id}", upgrade.id, 90486)
    finalized = invoice_event("invoice.finalized", f"in_{upgrade.id}", upgrade.id, 90486)
    for ev in (created_event, finalized):
        assert stripe_events.process_stripe_event(store_event(uow, ev), uow, deps) == "ignored"
    assert subscription(uow, world).interval == "month"

    assert pay(uow, deps, upgrade.id, 90486) == "applied"
    sub = subscription(uow, world)
    assert (sub.seats, sub.interval, sub.stripe_price_id) == (1, "year", "price_node_locked_year")
    assert sub.current_period_end == datetime(2023, 1, 1, tzinfo=UTC)
    assert ledger(uow)[-1] == (1, "year", "upgrade")
    assert sent[-1] == ("seatflow.push_upgrade_to_stripe", [upgrade.id])
    with uow:
        done = uow.upgrades.get(upgrade.id)
    assert [t.to_state for t in done.history] == [
        "requested",
        "charging",
        "awaiting_payment",
        "paid",
        "applied",
    ]
    assert (done.estimate_amount, done.charged_amount, done.paid_amount, done.drift) == (
        90486,
        90486,
        90486,
        0,
    )


def test_push_gives_stripe_the_new_price_and_the_prepaid_cycle(uow, deps, world, gateway) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    pay(uow, deps, upgrade.id, 90486)
    assert upgrade_payment.push_upgrade(upgrade.id, uow, deps) is True
    assert upgrade_payment.push_upgrade(upgrade.id, uow, deps) is False  # already synced
    [change] = gateway.changes
    assert (change.subscription_id, change.item_id) == ("sub_acme_nl", "si_acme_nl")
    assert (change.price_id, change.quantity) == ("price_node_locked_year", 1)
    assert change.prepaid_until == datetime(2023, 1, 1, tzinfo=UTC)


def test_a_seat_increase_keeps_the_cycle(uow, deps, world, gateway) -> None:
    e = estimate(uow, deps, world, seats=4, interval="month")
    # 21 of 31 days left: 40000×21/31 − 10000×21/31 = 27096.77 − 6774.19 → 27097 − 6774
    assert e.amount == 20323
    upgrade, _ = submit(uow, deps, world, e.id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    pay(uow, deps, upgrade.id, 20323)
    upgrade_payment.push_upgrade(upgrade.id, uow, deps)
    assert gateway.changes[0].prepaid_until is None
    assert gateway.changes[0].quantity == 4
    assert subscription(uow, world).current_period_end == datetime(2022, 2, 1, tzinfo=UTC)


def test_the_charged_amount_is_recomputed_at_submission_and_drift_recorded(
    uow, deps, world, clock, gateway
) -> None:
    deps = fake_deps(clock, gateway)
    deps = dataclasses.replace(deps, estimate_ttl=deps.estimate_ttl * 40)
    e = estimate(uow, deps, world)
    clock.advance(hours=5)  # the customer waited before paying
    upgrade, _ = submit(uow, deps, world, e.id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    with uow:
        done = uow.upgrades.get(upgrade.id)
    # 5 h later: 97203 − 6707; the old term shrank faster than the new one
    assert (e.amount, done.charged_amount, gateway.charges[0]["amount"]) == (90486, 90496, 90496)
    assert done.drift == -10


def test_a_declined_payment_leaves_seats_unchanged(uow, deps, world, gateway) -> None:
    gateway.decline = "Your card was declined."
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "payment_failed"
    with uow:
        assert uow.upgrades.get(upgrade.id).failure_reason == "Your card was declined."
    assert subscription(uow, world).interval == "month"


def test_payment_failed_event_marks_the_upgrade(uow, deps, world) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    ev = invoice_event("invoice.payment_failed", f"in_{upgrade.id}", upgrade.id, 90486)
    assert stripe_events.process_stripe_event(store_event(uow, ev), uow, deps) == "applied"
    with uow:
        assert uow.upgrades.get(upgrade.id).state == "payment_failed"
    assert subscription(uow, world).interval == "month"


def test_duplicated_and_early_invoice_paid_apply_once(uow, deps, world, sent) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    # invoice.paid before anything was invoiced cannot be the upgrade's own payment
    assert pay(uow, deps, upgrade.id, 90486, invoice_id="in_early") == "ignored"
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "awaiting_payment"
    assert pay(uow, deps, upgrade.id, 90486) == "applied"
    assert pay(uow, deps, upgrade.id, 90486) == "applied"
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "applied"
    assert [row[2] for row in ledger(uow)].count("upgrade") == 1
    assert [s for s in sent if s[0] == "seatflow.push_upgrade_to_stripe"] == [
        ("seatflow.push_upgrade_to_stripe", [upgrade.id])
    ]


def test_in_trial_the_change_is_free_and_applies_at_once(uow, gateway) -> None:
    world = build_world(uow, customer="cus_trial", status="trialing")
    deps = fake_deps(FixedClock(SEED_AS_OF), gateway)
    e = estimate(uow, deps, world, seats=3)
    assert (e.amount, e.trial) == (0, True)
    upgrade, _ = submit(uow, deps, world, e.id)
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "applied"
    assert gateway.charges == []
    assert (subscription(uow, world).seats, subscription(uow, world).interval) == (3, "year")


def test_the_same_idempotency_key_returns_the_same_upgrade(uow, deps, world) -> None:
    e = estimate(uow, deps, world)
    first, created = submit(uow, deps, world, e.id, key="k-1")
    again, created_again = submit(uow, deps, world, e.id, key="k-1")
    assert (created, created_again, again.id) == (True, False, first.id)


def test_one_open_upgrade_per_subscription(uow, deps, world) -> None:
    submit(uow, deps, world, estimate(uow, deps, world).id)
    with pytest.raises(errors.UpgradeAlreadyOpen):
        submit(uow, deps, world, estimate(uow, deps, world, seats=2).id)


def test_a_stale_estimate_cannot_be_submitted(uow, deps, world, clock) -> None:
    e = estimate(uow, deps, world)
    clock.advance(seconds=deps.estimate_ttl.total_seconds())
    with pytest.raises(errors.EstimateStale):
        submit(uow, deps, world, e.id)


@pytest.mark.parametrize(
    "params, role, error",
    [
        ({}, "member", errors.NotOwnerOrAdmin),
        ({"license_type": "floating"}, "owner", errors.NoLicenseBought),
        ({"seats": 0, "interval": "month"}, "owner", errors.SeatsCannotDecrease),
        ({"seats": 1, "interval": "month"}, "admin", errors.NothingToChange),
        ({"discount_code": "NOPE"}, "owner", errors.DiscountCodeInvalid),
    ],
)
def test_each_rule_is_a_named_error(uow, deps, world, params, role, error) -> None:
    with pytest.raises(error) as err:
        estimate(uow, deps, world, role=role, **params)
    assert err.value.code == error.code


def test_annual_cannot_go_back_to_monthly(uow, deps) -> None:
    world = build_world(uow, customer="cus_year", interval="year")
    with pytest.raises(errors.OnlyMonthlyToAnnual):
        estimate(uow, deps, world, seats=2, interval="month")


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"percent_off": 10, "max_redemptions": 0}, errors.DiscountCodeExhausted),
        ({"percent_off": 10, "expires_at": SEED_AS_OF}, errors.DiscountCodeExpired),
        ({"amount_off": 500, "currency": "eur"}, errors.CurrencyMismatch),
    ],
)
def test_discount_codes_are_checked(uow, deps, world, kwargs, error) -> None:
    fields = {
        "percent_off": None,
        "amount_off": None,
        "currency": None,
        "expires_at": None,
        "max_redemptions": None,
    } | kwargs
    admin.create_discount(uow, "CODE", **fields)
    with pytest.raises(error):
        estimate(uow, deps, world, discount_code="CODE")


def test_a_discount_is_applied_and_redeemed_on_payment(uow, deps, world) -> None:
    admin.create_discount(uow, "SAVE15", 15, None, None, None, 1)
    e = estimate(uow, deps, world, discount_code="SAVE15")
    assert (e.before_discount, e.discount_amount, e.amount) == (90486, 13573, 76913)
    upgrade, _ = submit(uow, deps, world, e.id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    pay(uow, deps, upgrade.id, 76913)
    with uow:
        assert uow.catalog.discount("SAVE15").times_redeemed == 1
    with pytest.raises(errors.DiscountCodeExhausted):
        estimate(uow, deps, world, seats=2, discount_code="SAVE15")


def test_cancel_before_payment_voids_the_invoice(uow, deps, world, gateway) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    cmd = CancelUpgrade(world.org_id, world.admin["id"], upgrade.id)
    assert upgrade_request.cancel_upgrade(cmd, uow, deps).state == "canceled"
    assert gateway.voided == [f"in_{upgrade.id}"]
    with pytest.raises(errors.InvalidTransition):
        upgrade_request.cancel_upgrade(cmd, uow, deps)


def test_unpaid_invoices_expire_after_23_hours(uow, deps, world, clock, gateway) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    clock.advance(hours=22)
    assert upgrade_payment.expire_unpaid(uow, deps) == []
    clock.advance(hours=1, seconds=1)
    assert upgrade_payment.expire_unpaid(uow, deps) == [upgrade.id]
    assert gateway.voided == [f"in_{upgrade.id}"]
    with uow:
        assert uow.upgrades.get(upgrade.id).state == "expired"


def test_a_late_payment_still_applies_an_expired_upgrade(uow, deps, world, clock) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    clock.advance(hours=24)
    upgrade_payment.expire_unpaid(uow, deps)
    assert pay(uow, deps, upgrade.id, 90486) == "applied"
    assert subscription(uow, world).interval == "year"


def test_an_older_subscription_event_does_not_undo_a_paid_upgrade(uow, deps, world) -> None:
    from tests.builders import subscription_event

    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    pay(uow, deps, upgrade.id, 90486, created=1_641_900_000)
    late = subscription_event("cus_acme", seats=1, interval="month", created=1_641_800_000)
    late["type"] = "customer.subscription.updated"
    assert stripe_events.process_stripe_event(store_event(uow, late), uow, deps) == "skipped_stale"
    assert subscription(uow, world).interval == "year"


def test_an_idempotency_key_reused_for_another_estimate_is_refused(uow, deps, world) -> None:
    first, _ = submit(uow, deps, world, estimate(uow, deps, world).id, key="k-1")
    upgrade_request.cancel_upgrade(
        CancelUpgrade(world.org_id, world.owner["id"], first.id), uow, deps
    )
    other = estimate(uow, deps, world, seats=2)
    with pytest.raises(errors.DomainError) as refused:
        submit(uow, deps, world, other.id, key="k-1")
    assert refused.value.code == "idempotency_key_reused"


def test_the_role_is_checked_before_the_idempotency_key(uow, deps, world) -> None:
    e = estimate(uow, deps, world)
    submit(uow, deps, world, e.id, key="k-1")
    with pytest.raises(errors.NotOwnerOrAdmin):
        submit(uow, deps, world, e.id, key="k-1", role="member")


def test_an_estimate_is_used_once_even_after_cancel(uow, deps, world) -> None:
    e = estimate(uow, deps, world)
    first, _ = submit(uow, deps, world, e.id)
    upgrade_request.cancel_upgrade(
        CancelUpgrade(world.org_id, world.owner["id"], first.id), uow, deps
    )
    with pytest.raises(errors.DomainError) as refused:
        submit(uow, deps, world, e.id)
    assert refused.value.code == "estimate_already_used"


def test_a_seat_decrease_from_more_than_one_seat_is_refused(uow, deps) -> None:
    world = build_world(uow, customer="cus_five", seats=5)
    for seats in (4, 1):
        with pytest.raises(errors.SeatsCannotDecrease):
            estimate(uow, deps, world, seats=seats, interval="month")
        with pytest.raises(errors.SeatsCannotDecrease):
            estimate(uow, deps, world, seats=seats, interval="year")


def test_no_upgrade_while_the_period_has_ended_and_stripe_reported_no_new_one(uow, deps) -> None:
    world = build_world(uow, customer="cus_late", start=datetime(2021, 12, 1, tzinfo=UTC))
    with pytest.raises(errors.DomainError) as refused:
        estimate(uow, deps, world, seats=2, interval="month")
    assert refused.value.code == "subscription_period_ended"


@pytest.mark.parametrize(
    "percent_off, amount_off", [(None, 0), (None, -500), (0, None), (101, None), (-5, None)]
)
def test_a_discount_must_take_something_off(uow, percent_off, amount_off) -> None:
    with pytest.raises(ValueError):
        admin.create_discount(uow, "BAD", percent_off, amount_off, "usd", None, None)


def test_discount_codes_compare_case_insensitively(uow, deps, world) -> None:
    admin.create_discount(uow, "Save15", 15, None, None, None, 1)
    e = estimate(uow, deps, world, discount_code="save15")
    assert e.discount_amount == 13573
    upgrade, _ = submit(uow, deps, world, e.id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    pay(uow, deps, upgrade.id, 76913)
    with pytest.raises(errors.DiscountCodeExhausted):
        estimate(uow, deps, world, seats=2, discount_code="SAVE15")


def test_a_single_use_code_is_reserved_at_submission_and_released_on_cancel(
    uow, deps, world
) -> None:
    other = build_world(uow, customer="cus_other", sub_id="sub_other")
    admin.create_discount(uow, "ONCE", 10, None, None, None, 1)
    mine = estimate(uow, deps, world, discount_code="ONCE")
    theirs = estimate(uow, deps, other, discount_code="ONCE")
    upgrade, _ = submit(uow, deps, world, mine.id)
    with pytest.raises(errors.DiscountCodeExhausted):
        submit(uow, deps, other, theirs.id)
    with pytest.raises(errors.DiscountCodeExhausted):
        estimate(uow, deps, other, discount_code="ONCE")

    cancel = CancelUpgrade(world.org_id, world.owner["id"], upgrade.id)
    upgrade_request.cancel_upgrade(cancel, uow, deps)
    again = estimate(uow, deps, other, discount_code="ONCE")
    assert submit(uow, deps, other, again.id)[1] is True


def test_a_reserved_code_is_honoured_at_charge_time_even_if_it_expired_since(
    uow, deps, world, clock, gateway
) -> None:
    admin.create_discount(uow, "SOON", 10, None, None, SEED_AS_OF.replace(minute=5), None)
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world, discount_code="SOON").id)
    clock.advance(minutes=10)
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "awaiting_payment"
    assert gateway.charges[0]["amount"] == 90486 - 9049  # 10 % of 90486, half-up


def _failed(uow, deps, world, gateway, seats=2):
    from services.upgrades import charge as upgrade_charge

    gateway.decline = "Your card was declined."
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world, seats=seats).id)
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "payment_failed"
    gateway.decline = None
    return upgrade


def test_paying_again_while_another_upgrade_is_open_is_refused(uow, deps, world, gateway) -> None:
    from domain.commands import RetryPayment
    from services.upgrades import charge as upgrade_charge

    failed = _failed(uow, deps, world, gateway)
    submit(uow, deps, world, estimate(uow, deps, world, seats=3).id)
    with pytest.raises(errors.UpgradeAlreadyOpen):
        upgrade_charge.retry_payment(
            RetryPayment(world.org_id, world.owner["id"], failed.id), uow, deps
        )


def test_paying_again_after_the_subscription_changed_is_refused(uow, deps, world, gateway) -> None:
    from domain.commands import RetryPayment
    from services.upgrades import charge as upgrade_charge
    from tests.builders import subscription_event

    failed = _failed(uow, deps, world, gateway)
    changed = subscription_event("cus_acme", seats=5, created=1_641_900_000)
    changed["type"] = "customer.subscription.updated"
    stripe_events.process_stripe_event(store_event(uow, changed), uow, deps)
    with pytest.raises(errors.EstimateStale):
        upgrade_charge.retry_payment(
            RetryPayment(world.org_id, world.owner["id"], failed.id), uow, deps
        )


def test_a_broken_rule_at_charge_time_fails_the_upgrade_instead_of_retrying(
    uow, deps, world, clock
) -> None:
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world).id)
    year = {
        "license_type": "node_locked",
        "interval": "year",
        "unit_amount": 90000,
        "currency": "eur",
        "stripe_price_id": "price_node_locked_year_eur",
    }
    admin.import_catalog(uow, [year])  # the catalog changed currency since the estimate
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "payment_failed"
    with uow:
        assert uow.upgrades.get(upgrade.id).failure_reason.startswith("currency_mismatch")
    clock.advance(hours=1)
    assert upgrade_charge.resume_stuck(uow, deps) == 0
