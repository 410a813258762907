"""The card-update handler and receipts on the fakes of the ports:
what would be sent to Stripe, once, in order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cli import samples
from config.tasks import PUSH_DEFAULT_CARD
from domain import errors
from domain.commands import RequestEstimate, SubmitUpgrade
from domain.ports import ChargeUnavailable
from services import payment_methods, receipts, stripe_events
from services.upgrades import charge as upgrade_charge
from services.upgrades import request as upgrade_request
from services.upgrades.charge import RetryLater
from tests.builders import invoice_event, store_event, worker
from tests.conftest import stripe_fixture
from tests.fakes import FakeUnitOfWork


def apply(uow: FakeUnitOfWork, deps: Any, event: dict[str, Any]) -> str:
    uow.enqueue = worker(uow, deps)  # the card pushed to Stripe at once, after the commit
    return stripe_events.process_stripe_event(store_event(uow, event), uow, deps)


def attached(pm_id: str, created: int, customer: str = "cus_acme") -> dict[str, Any]:
    pm = stripe_fixture("payment_method") | {"id": pm_id, "customer": customer}
    return samples.event("payment_method.attached", pm, created=created)


def customer_updated(pm_id: str, created: int) -> dict[str, Any]:
    customer = stripe_fixture("customer") | {"id": "cus_acme"}
    customer["invoice_settings"] = {"default_payment_method": pm_id}
    event = samples.event("customer.updated", customer, created=created)
    event["data"]["previous_attributes"] = {"invoice_settings": {"default_payment_method": None}}
    return event


def test_a_new_card_becomes_the_default_of_the_customer_and_its_subscription(
    uow, deps, gateway, world
) -> None:
    assert apply(uow, deps, attached("pm_new", 100)) == "applied"

    assert gateway.defaults == [
        {
            "customer_id": "cus_acme",
            "payment_method_id": "pm_new",
            "subscription_ids": ["sub_acme_nl"],
            "version": 100,
        }
    ]
    found = payment_methods.card_on_file(uow, world.org_id)
    assert found is not None and found.card is not None
    assert (found.card.brand, found.card.last4, found.card.exp_month, found.card.exp_year) == (
        "visa",
        "4242",
        8,
        2030,
    )


def test_the_echo_of_seatflows_own_update_and_a_replay_send_nothing_more(
    uow, deps, gateway, world
) -> None:
    gateway.objects["pm_new"] = stripe_fixture("payment_method") | {
        "id": "pm_new",
        "customer": "cus_acme",
    }
    first = attached("pm_new", 100)
    apply(uow, deps, first)
    assert apply(uow, deps, customer_updated("pm_new", 101)) == "applied"
    assert apply(uow, deps, first) == "applied"  # the same event again: already done
    assert len(gateway.defaults) == 1


def test_the_late_echo_of_seatflows_push_of_an_older_card_does_not_undo_a_newer_one(
    uow, deps, gateway, world
) -> None:
    """seatflow tells Stripe to make card A the default; meanwhile the customer adds card B,
    which seatflow keeps; then A's request lands and Stripe says "the default is now A" in a
    newer customer.updated. That event is seatflow's own echo (its idempotency key), not the
    customer's choice: B stays the card on file and Stripe is told B again."""
    gateway.objects["pm_a"] = stripe_fixture("payment_method") | {
        "id": "pm_a",
        "customer": "cus_acme",
    }
    apply(uow, deps, attached("pm_b", 200))
    echo = customer_updated("pm_a", 300)
    echo["request"] = {"id": "req_1", "idempotency_key": "seatflow-pm-cus_acme-pm_a-100-customer"}

    held: list[tuple[str, list[Any]]] = []
    uow.enqueue = lambda name, args: held.append((name, args))
    assert stripe_events.process_stripe_event(store_event(uow, echo), uow, deps) == (
        "skipped_stale"
    )

    found = payment_methods.card_on_file(uow, world.org_id)
    assert found is not None and found.payment_method_id == "pm_b"
    assert found.pay_with() == "pm_b"  # Stripe's default is A until it is told B again
    assert held == [(PUSH_DEFAULT_CARD, [world.org_id])]
    assert payment_methods.push_default_card(world.org_id, uow, deps) is True
    assert [d["payment_method_id"] for d in gateway.defaults] == ["pm_b", "pm_b"]


def test_the_customer_choosing_an_older_card_again_in_stripe_is_their_choice(
    uow, deps, gateway, world
) -> None:
    gateway.objects["pm_a"] = stripe_fixture("payment_method") | {
        "id": "pm_a",
        "customer": "cus_acme",
    }
    apply(uow, deps, attached("pm_b", 200))
    chosen = customer_updated("pm_a", 300)
    chosen["request"] = {"id": "req_2", "idempotency_key": None}  # the customer portal

    assert apply(uow, deps, chosen) == "applied"

    found = payment_methods.card_on_file(uow, world.org_id)
    assert found is not None and found.payment_method_id == "pm_a"


def test_an_older_card_event_is_stale_and_does_not_undo_a_newer_card(
    uow, deps, gateway, world
) -> None:
    apply(uow, deps, attached("pm_new", 200))
    assert apply(uow, deps, attached("pm_old", 100)) == "skipped_stale"
    assert [d["payment_method_id"] for d in gateway.defaults] == ["pm_new"]
    found = payment_methods.card_on_file(uow, world.org_id)
    assert found is not None and found.payment_method_id == "pm_new"


def test_a_checkout_in_setup_mode_reads_the_card_through_the_setup_intent(
    uow, deps, gateway, world
) -> None:
    gateway.objects["seti_1"] = {"id": "seti_1", "payment_method": "pm_from_checkout"}
    gateway.objects["pm_from_checkout"] = stripe_fixture("payment_method") | {
        "id": "pm_from_checkout"
    }
    session = stripe_fixture("checkout.session") | {
        "mode": "setup",
        "customer": "cus_acme",
        "setup_intent": "seti_1",
    }
    state = apply(uow, deps, samples.event("checkout.session.completed", session, created=5))

    assert state == "applied"
    assert gateway.fetched == [("setup_intent", "seti_1"), ("payment_method", "pm_from_checkout")]
    assert [d["payment_method_id"] for d in gateway.defaults] == ["pm_from_checkout"]


def test_another_customers_card_is_ignored(uow, deps, gateway, world) -> None:
    assert apply(uow, deps, attached("pm_x", 100, customer="cus_stranger")) == "ignored"
    assert gateway.defaults == []


def test_only_the_owner_or_an_admin_may_open_the_card_page(uow, deps, gateway, world) -> None:
    with uow:
        member, admin = uow.members.get(world.member["id"]), uow.members.get(world.admin["id"])
    assert member is not None and admin is not None
    with pytest.raises(errors.NotOwnerOrAdmin):
        payment_methods.setup_url(uow, deps, member, "https://a/", "https://b/")
    url = payment_methods.setup_url(uow, deps, admin, "https://a/", "https://b/", portal=True)
    assert url.startswith("https://stripe.example/portal/")
    assert gateway.setups == [
        {
            "customer_id": "cus_acme",
            "organization_id": world.org_id,
            "return_url": "https://a/",
            "cancel_url": "https://b/",
            "portal": True,
        }
    ]


def submitted_upgrade(uow: FakeUnitOfWork, deps: Any, world: Any) -> Any:
    """The owner's upgrade to a yearly node-locked subscription, submitted, not yet charged."""
    est = upgrade_request.request_estimate(
        RequestEstimate(world.org_id, world.owner["id"], "node_locked", 1, "year"),
        uow,
        deps,
    )
    upgrade, _ = upgrade_request.submit_upgrade(
        SubmitUpgrade(world.org_id, world.owner["id"], est.id), uow, deps
    )
    return upgrade


def paid_upgrade(uow: FakeUnitOfWork, deps: Any, world: Any) -> tuple[str, dict[str, Any]]:
    upgrade = submitted_upgrade(uow, deps, world)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    event = invoice_event("invoice.paid", f"in_{upgrade.id}", upgrade.id, 90486)
    event["data"]["object"].update(
        number="ACME-0007",
        hosted_invoice_url="https://invoice.stripe.com/i/test_7",
        invoice_pdf="https://pay.stripe.com/invoice/test_7/pdf",
        status_transitions={"paid_at": 1641900000},
    )
    return upgrade.id, event


def test_a_charge_names_a_new_card_until_stripe_has_made_it_the_default(
    uow, deps, gateway, world
) -> None:
    held: list[tuple[str, list[Any]]] = []
    uow.enqueue = lambda name, args: held.append((name, args))  # the push has not run yet
    stripe_events.process_stripe_event(store_event(uow, attached("pm_new", 100)), uow, deps)
    found = payment_methods.card_on_file(uow, world.org_id)
    assert found is not None and (found.default_at_stripe, found.pay_with()) == (False, "pm_new")
    upgrade_charge.charge_upgrade(submitted_upgrade(uow, deps, world).id, uow, deps)
    assert gateway.paid_with == ["pm_new"]

    assert payment_methods.push_default_card(world.org_id, uow, deps) is True
    found = payment_methods.card_on_file(uow, world.org_id)
    assert found is not None and (found.default_at_stripe, found.pay_with()) == (True, None)


def test_invoice_paid_keeps_the_upgrades_receipt_once(uow, deps, gateway, world) -> None:
    upgrade_id, event = paid_upgrade(uow, deps, world)
    assert gateway.charges[0]["amount"] == 90486

    assert apply(uow, deps, event) == "applied"
    assert apply(uow, deps, dict(event, id="evt_redelivered_as_new")) == "applied"

    history = receipts.history(uow, world.org_id)
    assert [(h.upgrade.id, h.upgrade.state) for h in history] == [(upgrade_id, "applied")]
    r = history[0].receipt
    assert r is not None
    assert (r.number, r.amount_paid, r.currency) == ("ACME-0007", 90486, "usd")
    assert r.paid_at == datetime.fromtimestamp(1641900000, UTC)
    assert r.hosted_invoice_url == "https://invoice.stripe.com/i/test_7"
    assert r.invoice_pdf == "https://pay.stripe.com/invoice/test_7/pdf"


def test_a_lost_pay_answer_leaves_the_recorded_invoice_and_3d_secure_survives_its_failure(
    uow, deps, gateway, world
) -> None:
    """The pay answer was lost: the upgrade knows its invoice all the same (recorded before
    paying); Stripe says action required and payment failed for that attempt, in one
    message: the customer can still complete the payment on the hosted page."""
    upgrade = submitted_upgrade(uow, deps, world)

    def answer_lost(**kwargs: Any) -> None:
        raise ChargeUnavailable("connection", "the answer was lost")

    gateway.pay_invoice = answer_lost  # type: ignore[method-assign]
    with pytest.raises(RetryLater):  # the upgrade stays charging
        upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    assert gateway.charges[0]["amount"] == 90486
    invoice_id = f"in_{upgrade.id}"
    action = invoice_event("invoice.payment_action_required", invoice_id, None, 90486, 10)
    action["data"]["object"]["hosted_invoice_url"] = "https://invoice.stripe.example/pay"
    failed = invoice_event("invoice.payment_failed", invoice_id, None, 90486, 20)
    ids = [store_event(uow, event) for event in (action, failed)]
    states = stripe_events.process_stripe_events(ids, lambda: uow, deps, lambda _: False)
    assert states == {"applied": 2}
    with uow:
        found = uow.upgrades.get(upgrade.id)
        assert found is not None
        assert (found.stripe_invoice_id, found.state) == (invoice_id, "requires_action")
        assert found.payment_url == "https://invoice.stripe.example/pay"


def test_a_checkout_naming_another_customers_setup_intent_sets_no_default(
    uow, deps, gateway, world
) -> None:
    """Customer A's Checkout session names B's setup intent: B's card never becomes A's
    default (seatflow refuses before it asks Stripe anything)."""
    gateway.objects["seti_beta"] = {
        "id": "seti_beta",
        "payment_method": "pm_beta",
        "customer": "cus_beta",
    }
    session = stripe_fixture("checkout.session") | {
        "mode": "setup",
        "customer": "cus_acme",
        "setup_intent": "seti_beta",
    }
    event = samples.event("checkout.session.completed", session, created=5)
    assert apply(uow, deps, event) == "ignored"
    assert gateway.defaults == []
    assert payment_methods.card_on_file(uow, world.org_id) is None


def test_a_payment_method_of_another_customer_sets_no_default(uow, deps, gateway, world) -> None:
    gateway.objects["pm_beta"] = stripe_fixture("payment_method") | {
        "id": "pm_beta",
        "customer": "cus_beta",
    }
    assert apply(uow, deps, customer_updated("pm_beta", 101)) == "ignored"
    assert gateway.defaults == []
