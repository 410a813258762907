"""Upgrades end to end against the stateful fake Stripe: what Stripe captured, refunded and
holds open, in exact cents, after seatflow's real services handled Stripe's own events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from config.database import make_engine
from domain.errors import DomainError
from services import stripe_events
from services.upgrades import charge as upgrade_charge
from tests.builders import store_event
from tests.money_world import DAY, MoneyWorld, money_world
from tests.stripe_model import Clock, StripeServer, StripeState

JAN_1 = 1640995200  # 2022-01-01T00:00:00Z
JAN_11 = 1641859200  # 2022-01-11T00:00:00Z


@pytest.fixture
def engine(sqlite_settings) -> Iterator[Engine]:
    engine = make_engine(sqlite_settings)
    yield engine
    engine.dispose()


@pytest.fixture
def server() -> Iterator[StripeServer]:
    with StripeServer(StripeState(Clock(frozen=JAN_11))) as running:
        yield running


def at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def assert_no_offline_license(world: MoneyWorld) -> None:
    from domain.licenses import OfflineNotAllowed
    from domain.model import Member
    from services import licenses

    owner = Member(world.members["owner"], world.org_id, "owner@acme.example", "owner")
    with pytest.raises(OfflineNotAllowed):
        licenses.activate_offline(world.uow(), world.deps, world.org_id, owner, "node_locked", "m1")


def test_a_trial_switched_to_annual_still_ends_with_the_trial_and_then_bills_the_year(
    engine, server
) -> None:
    world = money_world(engine, server, period_start=JAN_1, trial_days=14)
    trial_end = JAN_1 + 14 * DAY
    estimate = world.estimate(1, "year")
    assert (estimate.amount, estimate.trial) == (0, True)

    upgrade = world.submit(estimate)
    assert world.charge(upgrade.id) == "applied"
    assert world.push(upgrade.id) is True
    world.deliver()

    stripe_sub = world.stripe_subscription()
    assert (stripe_sub["status"], stripe_sub["trial_end"]) == ("trialing", trial_end)
    assert stripe_sub["items"]["data"][0]["price"]["id"] == "price_node_locked_year"
    assert world.state.captured() == 0
    sub = world.subscription()
    assert (sub.status, sub.interval, sub.current_period_end) == ("trialing", "year", at(trial_end))
    current = world.licenses()[-1]
    assert current.valid_until == at(trial_end) + world.deps.license_grace
    assert_no_offline_license(world)

    world.advance(trial_end - JAN_11)
    world.deliver()

    assert world.state.captured(customer=world.customer) == 100000
    sub = world.subscription()
    assert (sub.status, sub.interval) == ("active", "year")
    assert sub.current_period_end == at(trial_end) + timedelta(days=365)


# 1 → 2 seats, monthly, on 2022-01-11: 20000×21/31 − 10000×21/31 = 13548 − 6774
TWO_SEATS = 6774


def test_a_retry_after_a_decline_pays_the_same_invoice_once(engine, server) -> None:
    world = money_world(engine, server, card="declines", period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    assert world.charge(upgrade.id) == "payment_failed"
    world.deliver()
    assert world.upgrade(upgrade.id).failure_reason == "Your card was declined."

    world.state.set_card(world.customer, "succeeds")
    assert world.retry(upgrade.id).state == "charging"
    assert world.charge(upgrade.id) == "awaiting_payment"
    world.deliver()

    assert [i["status"] for i in world.invoices()] == ["paid"]
    assert world.state.captured(customer=world.customer) == TWO_SEATS
    assert world.upgrade(upgrade.id).state == "applied"
    assert world.subscription().seats == 2


def test_a_new_upgrade_after_a_decline_voids_the_failed_invoice_first(engine, server) -> None:
    world = money_world(engine, server, card="declines", period_start=JAN_1)
    failed = world.submit(world.estimate(2, "month"))
    world.charge(failed.id)
    world.deliver()
    world.state.set_card(world.customer, "succeeds")

    upgrade = world.submit(world.estimate(2, "month"))
    assert world.charge(upgrade.id) == "awaiting_payment"
    world.deliver()

    old = world.state.get("invoice", world.upgrade(failed.id).stripe_invoice_id)
    assert old["status"] == "void"
    assert world.open_invoices() == []
    assert world.state.captured(customer=world.customer) == TWO_SEATS
    assert world.upgrade(failed.id).state == "expired"
    assert world.upgrade(upgrade.id).state == "applied"


def test_a_cancel_while_stripe_is_asked_to_pay_voids_the_invoice_and_takes_nothing(
    engine, server
) -> None:
    """The invoice is recorded before Stripe is asked to pay it, so a cancel at that moment
    voids it first: Stripe refuses to pay a void invoice and nothing is taken."""
    world = money_world(engine, server, period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    pay = world.deps.gateway.pay_invoice

    def cancel_then_pay(**kwargs):  # the customer cancels while Stripe is charging
        assert world.cancel(upgrade.id).state == "canceled"
        return pay(**kwargs)

    world.deps.gateway.pay_invoice = cancel_then_pay  # type: ignore[method-assign]
    assert world.charge(upgrade.id) == "canceled"
    world.deliver()

    assert [i["status"] for i in world.invoices()] == ["void"]
    assert world.state.captured(customer=world.customer) == 0
    assert world.upgrade(upgrade.id).state == "canceled"
    assert world.subscription().seats == 1


def test_a_permanent_stripe_error_fails_the_upgrade_and_frees_the_subscription(
    engine, server
) -> None:
    world = money_world(engine, server, period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    server.fail_next("/v1/invoices", "invalid_request_error")

    assert world.charge(upgrade.id) == "payment_failed"
    assert world.upgrade(upgrade.id).failure_reason == "invalid_request: Invalid request."
    assert world.resume() == []
    assert world.cancel(upgrade.id).state == "canceled"
    again = world.submit(world.estimate(2, "month"))
    assert world.charge(again.id) == "awaiting_payment"
    world.deliver()
    assert world.state.captured(customer=world.customer) == TWO_SEATS


def test_transient_stripe_errors_retry_with_backoff_one_chain_at_a_time_then_fail(
    engine, server
) -> None:
    from services.upgrades.charge import RetryLater

    world = money_world(engine, server, period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    server.fail_next("/v1/invoices", "api_error", times=100, method="POST")

    waits = []
    while world.upgrade(upgrade.id).state == "charging" or not waits:
        try:
            upgrade_charge.charge_upgrade(upgrade.id, world.uow(), world.deps)
        except RetryLater as later:
            waits.append(later.seconds)
            assert world.charge(upgrade.id) == "busy"  # a second chain does nothing meanwhile
            assert world.resume() == []  # the chain is alive: the resume job leaves it
            world.advance(int(later.seconds))

    assert waits == [5, 10]  # the customer waits on the page: seconds, then Pay again
    assert len(server.requests("POST", "/v1/invoices")) == 3
    failed = world.upgrade(upgrade.id)
    assert failed.state == "payment_failed"
    assert failed.failure_reason.startswith("Stripe unavailable (server_error)")
    assert world.cancel(upgrade.id).state == "canceled"
    assert world.state.captured() == 0


def test_a_charge_chain_that_was_lost_is_resumed_after_its_claim_ends(engine, server) -> None:
    world = money_world(engine, server, period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    server.fail_next("/v1/invoices", "api_error", method="POST")
    assert world.charge(upgrade.id) == "retrying"  # and the chain's message is lost

    world.advance(15 + 60)
    assert world.resume() == []
    world.advance(61)
    assert world.resume() == [upgrade.id]
    assert world.charge(upgrade.id) == "awaiting_payment"
    world.deliver()
    assert world.state.captured(customer=world.customer) == TWO_SEATS


def test_cancel_of_an_upgrade_stripe_already_charged_answers_already_paid_and_applies_it(
    engine, server
) -> None:
    world = money_world(engine, server, period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    assert world.charge(upgrade.id) == "awaiting_payment"  # paid; invoice.paid not yet here

    with pytest.raises(DomainError) as refused:
        world.cancel(upgrade.id)

    assert refused.value.code == "already_paid"

    assert world.upgrade(upgrade.id).state == "applied"
    assert world.subscription().seats == 2
    versions = len(world.licenses())
    world.deliver()
    assert world.upgrade(upgrade.id).state == "applied"
    assert len(world.licenses()) == versions
    assert world.state.captured(customer=world.customer) == TWO_SEATS
    assert world.state.refunded() == 0


def test_3d_secure_is_completed_on_stripes_hosted_page_then_applied(engine, server) -> None:
    world = money_world(engine, server, card="requires_action", period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))

    assert world.charge(upgrade.id) == "requires_action"
    states = dict(world.deliver())
    invoice_id = world.upgrade(upgrade.id).stripe_invoice_id
    invoice = world.state.get("invoice", invoice_id)
    assert world.upgrade(upgrade.id).payment_url == invoice["hosted_invoice_url"]
    assert states["invoice.payment_action_required"] == "applied"
    assert world.upgrade(upgrade.id).state == "requires_action"

    world.state.complete_3ds(invoice_id)
    world.deliver()

    assert world.upgrade(upgrade.id).state == "applied"
    assert world.state.captured(customer=world.customer) == TWO_SEATS


def test_the_invoice_item_stripe_receives_is_the_discounted_estimate_to_the_cent(
    engine, server
) -> None:
    from services import admin

    world = money_world(engine, server, period_start=JAN_1)
    admin.create_discount(world.uow(), "save15", 15, None, None, None, 1)
    estimate = world.estimate(1, "year", code="SAVE15")
    # the documents' example: 90486, less 15 % (13572.9 → 13573)
    assert (estimate.before_discount, estimate.discount_amount, estimate.amount) == (
        90486,
        13573,
        76913,
    )
    upgrade = world.submit(estimate)
    world.charge(upgrade.id)
    world.deliver()

    [item] = world.state.all("invoiceitem")
    assert (item["amount"], item["currency"], item["customer"]) == (76913, "usd", world.customer)
    [invoice] = world.invoices()
    assert (invoice["total"], invoice["amount_paid"]) == (76913, 76913)
    assert world.state.captured(customer=world.customer) == 76913
    assert world.upgrade(upgrade.id).state == "applied"


def test_a_void_that_fails_for_a_while_leaves_the_upgrade_for_the_next_expiry_run(
    engine, server
) -> None:
    from services.upgrades import payment as upgrade_payment

    world = money_world(engine, server, card="declines", period_start=JAN_1)
    failed = world.submit(world.estimate(2, "month"))
    world.charge(failed.id)
    world.advance(DAY)
    server.fail_next("/v1/invoices/*/void", "api_error", method="POST")

    assert upgrade_payment.expire_unpaid(world.uow(), world.deps) == []
    assert world.upgrade(failed.id).state == "payment_failed"
    assert upgrade_payment.expire_unpaid(world.uow(), world.deps) == [failed.id]
    assert world.open_invoices() == []


def test_pay_answering_5xx_then_cancel_voids_the_recorded_invoice(engine, server) -> None:
    """Stripe failed on /pay after the invoice was finalized: seatflow recorded the invoice
    before paying, so the owner's cancel voids it; nothing stays open at Stripe."""
    world = money_world(engine, server, period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    server.fail_next("/v1/invoices/*/pay", "api_error", method="POST")
    assert world.charge(upgrade.id) == "retrying"
    assert world.upgrade(upgrade.id).stripe_invoice_id is not None

    assert world.cancel(upgrade.id).state == "canceled"
    world.deliver()

    assert [i["status"] for i in world.invoices()] == ["void"]
    assert world.open_invoices() == []
    assert world.state.captured(customer=world.customer) == 0


def test_a_lost_answer_while_the_invoice_is_made_then_cancel_voids_what_stripe_made(
    engine, server
) -> None:
    """The answer to finalize was lost and the chain's next run never came: the invoice was
    recorded as a draft before it was finalized, so the owner's cancel voids it. Nothing
    stays open at Stripe, nothing is taken."""
    world = money_world(engine, server, period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    server.lose_answer("/v1/invoices/*/finalize", method="POST")
    assert world.charge(upgrade.id) == "retrying"
    [made] = world.open_invoices()
    assert world.upgrade(upgrade.id).stripe_invoice_id == made["id"]

    assert world.cancel(upgrade.id).state == "canceled"
    world.deliver()

    assert [i["status"] for i in world.invoices()] == ["void"]
    assert world.state.captured(customer=world.customer) == 0
    world.advance(DAY)
    assert world.resume() == []


def test_a_lost_answer_while_the_draft_is_made_then_cancel_deletes_the_draft(
    engine, server
) -> None:
    """The answer to the draft's creation was lost: the owner's cancel sends the charge task,
    which learns the draft by replaying its key and deletes it. Nothing stays at Stripe."""
    world = money_world(engine, server, period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    server.lose_answer("/v1/invoices", method="POST")
    assert world.charge(upgrade.id) == "retrying"
    assert world.upgrade(upgrade.id).stripe_invoice_id is None
    [draft] = world.invoices()
    assert (draft["status"], draft["total"]) == ("draft", 0)

    sent = len(world.sent)
    assert world.cancel(upgrade.id).state == "canceled"
    assert world.sent[sent:] == [("seatflow.charge_upgrade", [upgrade.id])]
    assert world.charge(upgrade.id) == "canceled"
    world.deliver()

    assert world.invoices() == []
    assert world.state.captured(customer=world.customer) == 0
    world.advance(DAY)
    assert world.resume() == []


def test_a_finalize_answer_lost_for_days_still_pays_the_one_recorded_invoice(
    engine, server
) -> None:
    """Stripe failed for two days after it finalized the invoice (its answer lost): the
    invoice was recorded before it was finalized, so the chain finds it by its id, not by
    replaying forgotten keys, and pays it once."""
    world = money_world(engine, server, period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    server.lose_answer("/v1/invoices/*/finalize", method="POST")
    assert world.charge(upgrade.id) == "retrying"
    world.advance(2 * DAY)
    assert world.charge(upgrade.id) == "awaiting_payment"
    world.deliver()

    [invoice] = world.invoices()
    assert (invoice["status"], invoice["total"], invoice["amount_paid"]) == (
        "paid",
        TWO_SEATS,
        TWO_SEATS,
    )
    assert world.state.captured(customer=world.customer) == TWO_SEATS
    assert world.upgrade(upgrade.id).state == "applied"


def test_a_line_answer_lost_for_days_adds_no_second_line(engine, server) -> None:
    """The answer to the invoice item was lost and Stripe forgot its key: the draft already
    has its line, so none is added again; the invoice bills the surcharge once."""
    world = money_world(engine, server, period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    server.lose_answer("/v1/invoiceitems", method="POST")
    assert world.charge(upgrade.id) == "retrying"
    world.advance(2 * DAY)
    assert world.charge(upgrade.id) == "awaiting_payment"
    world.deliver()

    [invoice] = world.invoices()
    assert (invoice["status"], invoice["total"]) == ("paid", TWO_SEATS)
    assert world.state.captured(customer=world.customer) == TWO_SEATS
    assert world.upgrade(upgrade.id).state == "applied"


def test_an_invoice_paid_by_credit_while_its_answer_was_lost_applies_the_upgrade(
    engine, server
) -> None:
    """The customer's credit paid the invoice as Stripe finalized it, and that answer was
    lost; Stripe then failed for two days. `invoice.paid` finds the upgrade by the invoice
    id recorded before finalizing, and the upgrade applies: the credit is not kept for
    nothing."""
    world = money_world(engine, server, period_start=JAN_1)
    world.state.give_credit(world.customer, 10000)
    world.deliver()
    upgrade = world.submit(world.estimate(2, "month"))
    server.lose_answer("/v1/invoices/*/finalize", method="POST")
    assert world.charge(upgrade.id) == "retrying"
    world.deliver()
    assert world.upgrade(upgrade.id).state == "applied"

    world.advance(2 * DAY)
    assert world.charge(upgrade.id) == "applied"
    [invoice] = world.invoices()
    assert (invoice["status"], invoice["total"], invoice["amount_paid"]) == ("paid", TWO_SEATS, 0)
    assert world.state.get("customer", world.customer)["balance"] == -(10000 - TWO_SEATS)
    assert world.subscription().seats == 2


def test_an_invoice_edited_in_the_dashboard_before_it_is_paid_is_not_paid(engine, server) -> None:
    """A line added to the recorded draft (in Stripe's dashboard, or by anything but this
    upgrade) makes the invoice bill more than the surcharge: it is voided, not paid, and the
    upgrade fails with the reason. Stripe takes nothing."""
    world = money_world(engine, server, period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    server.fail_next("/v1/invoiceitems", "api_error", method="POST")
    assert world.charge(upgrade.id) == "retrying"
    [draft] = world.invoices()
    world.state.invoiceitems_create(
        {"customer": world.customer, "invoice": draft["id"], "amount": 100, "currency": "usd"}
    )
    world.advance(10 * 60)
    assert world.charge(upgrade.id) == "payment_failed"
    world.deliver()

    assert [i["status"] for i in world.invoices()] == ["void"]
    assert world.state.captured(customer=world.customer) == 0
    assert "does not bill" in (world.upgrade(upgrade.id).failure_reason or "")


def test_a_credit_balance_is_taken_first_and_the_card_pays_the_rest(engine, server) -> None:
    """Stripe applies the customer's credit before charging: the invoice is paid for its
    total, the card gives only the rest, and the upgrade applies."""
    world = money_world(engine, server, period_start=JAN_1)
    world.state.give_credit(world.customer, 5000)
    world.deliver()
    upgrade = world.submit(world.estimate(2, "month"))
    assert world.charge(upgrade.id) == "awaiting_payment"
    world.deliver()

    [invoice] = world.invoices()
    assert (invoice["status"], invoice["total"], invoice["amount_paid"]) == (
        "paid",
        TWO_SEATS,
        TWO_SEATS - 5000,
    )
    assert world.state.captured(customer=world.customer) == TWO_SEATS - 5000
    done = world.upgrade(upgrade.id)
    assert (done.state, done.charged_amount, done.paid_amount) == ("applied", TWO_SEATS, TWO_SEATS)
    assert world.subscription().seats == 2


def test_a_surcharge_below_stripes_minimum_charge_is_paid_with_nothing_captured(
    engine, server
) -> None:
    """A seat added two hours before the cycle ends costs 27 cents: Stripe marks the invoice
    paid without charging the card (the amount is owed with the next invoice); the upgrade
    applies all the same."""
    world = money_world(engine, server, period_start=JAN_1)
    world.advance(JAN_1 + 31 * DAY - 2 * 3600 - world.state.now())
    upgrade = world.submit(world.estimate(2, "month"))
    assert upgrade.estimate_amount == 27  # 10000 × 120 / 44640 minutes, half-up
    # Stripe marks it paid as it is finalized: the charge finds it paid and applies it.
    assert world.charge(upgrade.id) == "applied"
    world.deliver()

    [invoice] = world.invoices()
    assert (invoice["status"], invoice["total"], invoice["amount_paid"]) == ("paid", 27, 0)
    assert world.state.captured(customer=world.customer) == 0
    assert world.state.get("customer", world.customer)["balance"] == 27
    assert world.upgrade(upgrade.id).state == "applied"
    assert world.subscription().seats == 2


def test_a_void_that_fails_while_a_canceled_charge_is_settled_is_tried_again(
    engine, server
) -> None:
    """Canceled while its draft was made (the answer lost); Stripe fails the first try to
    remove it: the charge keeps its claim, and the resume job comes back and deletes it.
    Nothing stays at Stripe."""
    world = money_world(engine, server, period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    server.lose_answer("/v1/invoices", method="POST")
    assert world.charge(upgrade.id) == "retrying"
    assert world.cancel(upgrade.id).state == "canceled"
    server.fail_next("/v1/invoices/*/void", "api_error", method="POST")
    assert world.charge(upgrade.id) == "retrying"
    assert len(world.invoices()) == 1

    world.advance(10 * 60)
    assert world.resume() == [upgrade.id]
    assert world.charge(upgrade.id) == "canceled"
    assert world.invoices() == []
    world.advance(10 * 60)
    assert world.resume() == []


def test_a_canceled_charge_settled_only_after_stripe_forgot_its_keys_is_flagged(
    engine, server
) -> None:
    """Stripe keeps a key's answer for 24 hours: a settle that comes later cannot learn the
    invoice by replaying it (it would make another), so a person is asked to void it."""
    from adapters import drift

    world = money_world(engine, server, period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    server.lose_answer("/v1/invoices", method="POST")
    assert world.charge(upgrade.id) == "retrying"
    assert world.cancel(upgrade.id).state == "canceled"
    world.advance(2 * DAY)
    assert world.charge(upgrade.id) == "canceled"
    assert len(world.invoices()) == 1  # no second invoice made
    [record] = drift.rows(engine, "saga")
    assert (record["subject"], record["flagged"]) == (upgrade.id, True)
    assert world.resume() == []


def test_a_charge_that_could_not_finish_within_a_day_makes_no_second_invoice(
    engine, server
) -> None:
    """Stripe failed for a day after it made the draft (its answer lost, so its id is not
    known): the chain does not make the invoice again once Stripe forgot its keys; the
    upgrade fails and a person is asked to delete the empty draft."""
    from adapters import drift

    world = money_world(engine, server, period_start=JAN_1)
    upgrade = world.submit(world.estimate(2, "month"))
    server.lose_answer("/v1/invoices", method="POST")
    assert world.charge(upgrade.id) == "retrying"
    world.advance(2 * DAY)
    assert world.charge(upgrade.id) == "payment_failed"
    assert len(world.invoices()) == 1
    [record] = drift.rows(engine, "saga")
    assert (record["subject"], record["flagged"]) == (upgrade.id, True)


def test_an_upgrade_paid_before_stripe_is_told_of_the_new_card_pays_with_the_card_shown(
    engine, server
) -> None:
    """The owner enters a new card on Stripe's page, seatflow shows it as the card on file,
    and the owner pays at once: the task that makes it Stripe's default has not run yet.
    The invoice is paid with the card the page showed, not the declining card Stripe still
    has as the customer's default."""
    from adapters.unit_of_work import SqlUnitOfWork
    from services import payment_methods

    world = money_world(engine, server, card="declines", period_start=JAN_1)
    old_default = world.state.get("customer", world.customer)["invoice_settings"][
        "default_payment_method"
    ]
    with world.uow() as uow:
        owner = uow.members.get(world.members["owner"])
    assert owner is not None
    payment_methods.setup_url(
        world.uow(), world.deps, owner, "https://s.test/ok", "https://s.test/x"
    )
    session = world.state.all("checkout.session")[-1]
    world.state.complete_checkout(session["id"], "succeeds")
    new_card = world.state.get("setup_intent", session["setup_intent"])["payment_method"]
    held: list[tuple[str, list[str]]] = []
    with world.state.lock:
        events = world.state.events[world.delivered :]
        world.delivered = len(world.state.events)
    for event in events:  # the default-card task is held back: it has not run yet
        stored = store_event(engine, json.loads(json.dumps(event)))
        stripe_events.process_stripe_event(
            stored, SqlUnitOfWork(engine, enqueue=lambda n, a: held.append((n, a))), world.deps
        )
    on_file = payment_methods.card_on_file(world.uow(), world.org_id)
    assert on_file is not None and on_file.payment_method_id == new_card
    stripe_default = world.state.get("customer", world.customer)["invoice_settings"]
    assert stripe_default["default_payment_method"] == old_default

    upgrade = world.submit(world.estimate(1, "year"))
    world.charge(upgrade.id)
    world.deliver()

    paid = world.upgrade(upgrade.id)
    assert paid.state == "applied"
    assert paid.charged_amount == 90486
    assert world.state.captured(customer=world.customer) == 90486
    invoice = world.state.get("invoice", paid.stripe_invoice_id)
    intent = world.state.invoice_intent(invoice["id"])
    assert intent["payment_method"] == new_card
