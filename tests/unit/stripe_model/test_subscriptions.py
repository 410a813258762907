"""The fake Stripe's subscriptions: API updates and what they charge, trials, renewals as
the clock moves, and edits made in the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

from tests.stripe_model import Clock, StripeState, add_interval
from tests.stripe_model.base import Behaviour

JAN_1 = 1640995200  # 2022-01-01T00:00:00Z: the cycle start
NOW = 1641859200  # 2022-01-11T00:00:00Z
NEXT_YEAR = 1672531200  # 2023-01-01T00:00:00Z


@pytest.fixture
def state() -> StripeState:
    state = StripeState(Clock(frozen=NOW))
    state.create_price("price_year", unit_amount=100000, interval="year")
    return state


def monthly(state: StripeState, behaviour: Behaviour = "succeeds") -> tuple[str, str]:
    customer = state.create_customer(behaviour)["id"]
    sub = state.create_subscription(
        customer,
        "price_month",
        unit_amount=10000,
        period_start=JAN_1,
        metadata={"organization_id": "org_1"},
    )
    return sub["id"], sub["items"]["data"][0]["id"]


def test_an_api_update_emits_updated_with_the_previous_attributes(state, client) -> None:
    sub_id, item_id = monthly(state)
    client.v1.subscriptions.update(
        sub_id,
        {"items": [{"id": item_id, "quantity": 3}], "proration_behavior": "none"},
        {"idempotency_key": "up1-subscription"},
    )
    [event] = state.events_of("customer.subscription.updated")
    assert event["data"]["object"]["items"]["data"][0]["quantity"] == 3
    assert event["data"]["previous_attributes"]["items"]["data"][0]["quantity"] == 1
    assert event["request"]["idempotency_key"] == "up1-subscription"
    assert state.pending_items(state.get("subscription", sub_id)["customer"]) == []
    assert state.captured() == 0


def test_default_prorations_wait_as_pending_items_always_invoice_charges_them(
    state, client
) -> None:
    sub_id, item_id = monthly(state)
    client.v1.subscriptions.update(sub_id, {"items": [{"id": item_id, "quantity": 3}]})
    customer = state.get("subscription", sub_id)["customer"]
    # 21 of 31 days left: credit 10000 × 21/31, charge 30000 × 21/31, to the cent.
    assert sorted(i["amount"] for i in state.pending_items(customer)) == [-6774, 20323]

    client.v1.subscriptions.update(
        sub_id, {"items": [{"id": item_id, "quantity": 4}], "proration_behavior": "always_invoice"}
    )
    assert state.pending_items(customer) == []
    assert state.captured() == 13549 + (-20323 + 27097)


def test_a_switch_to_yearly_without_a_trial_end_charges_the_full_year_now(state, client):
    sub_id, item_id = monthly(state)
    client.v1.subscriptions.update(
        sub_id,
        {"items": [{"id": item_id, "price": "price_year"}], "proration_behavior": "none"},
    )
    sub = state.get("subscription", sub_id)
    assert state.captured() == 100000
    assert state.period(sub) == (NOW, add_interval(NOW, "year"))
    invoice = state.get("invoice", sub["latest_invoice"])
    assert invoice["billing_reason"] == "subscription_update"


def test_a_switch_to_yearly_with_a_prepaid_trial_end_charges_on_that_date(state, client):
    sub_id, item_id = monthly(state)
    client.v1.subscriptions.update(
        sub_id,
        {
            "items": [{"id": item_id, "price": "price_year", "quantity": 1}],
            "proration_behavior": "none",
            "trial_end": NEXT_YEAR,
        },
    )
    sub = state.get("subscription", sub_id)
    assert (sub["status"], sub["trial_end"], state.captured()) == ("trialing", NEXT_YEAR, 0)
    assert state.period(sub) == (NOW, NEXT_YEAR)

    state.advance(NEXT_YEAR - NOW)

    assert (sub["status"], state.captured()) == ("active", 100000)
    assert state.period(sub) == (NEXT_YEAR, add_interval(NEXT_YEAR, "year"))
    renewal = state.get("invoice", sub["latest_invoice"])
    assert (renewal["billing_reason"], renewal["amount_paid"]) == ("subscription_cycle", 100000)
    assert renewal["parent"]["subscription_details"]["subscription"] == sub_id
    assert renewal["lines"]["data"][0]["period"] == {"start": NEXT_YEAR, "end": 1704067200}


def test_trial_end_now_ends_the_trial_and_invoices_the_new_period(state, client) -> None:
    customer = state.create_customer()["id"]
    sub = state.create_subscription(customer, "price_year", trial_end=NEXT_YEAR)
    client.v1.subscriptions.update(sub["id"], {"trial_end": "now"})
    assert (sub["status"], state.captured()) == ("active", 100000)


def test_an_unpaid_renewal_makes_the_subscription_past_due_until_paid(state, client) -> None:
    sub_id, _ = monthly(state, "declines")
    state.advance(add_interval(JAN_1, "month") - NOW)
    sub = state.get("subscription", sub_id)
    assert sub["status"] == "past_due"

    state.set_card(sub["customer"], "succeeds")
    client.v1.invoices.pay(sub["latest_invoice"])

    assert (sub["status"], state.captured()) == ("active", 10000)
    statuses = [e["data"]["object"]["status"] for e in state.events_of("customer.subscription.*")]
    assert statuses[-2:] == ["past_due", "active"]


def test_renewals_follow_calendar_months() -> None:
    jan_31 = int(datetime(2024, 1, 31, tzinfo=UTC).timestamp())
    assert datetime.fromtimestamp(add_interval(jan_31, "month"), UTC).day == 29
    assert datetime.fromtimestamp(add_interval(jan_31, "month", 2), UTC).day == 31
    assert add_interval(JAN_1, "year") == NEXT_YEAR


def test_a_dashboard_edit_changes_the_subscription_without_the_api(state, client) -> None:
    sub_id, _ = monthly(state)
    state.dashboard_update(sub_id, quantity=7, metadata={"note": "by hand"})

    [event] = state.events_of("customer.subscription.updated")
    assert event["data"]["object"]["items"]["data"][0]["quantity"] == 7
    previous = event["data"]["previous_attributes"]
    assert previous["items"]["data"][0]["quantity"] == 1
    assert previous["metadata"] == {"note": None}
    assert event["request"]["idempotency_key"] is None
    assert state.captured() == 0 and state.all("invoice") == []
    assert client.v1.subscriptions.retrieve(sub_id).items.data[0].quantity == 7


def test_cancelling_in_the_dashboard_or_at_period_end_emits_deleted(state, client) -> None:
    first, _ = monthly(state)
    second, _ = monthly(state)
    state.dashboard_update(first, status="canceled")
    client.v1.subscriptions.update(second, {"cancel_at_period_end": True})
    state.advance(add_interval(JAN_1, "month") - NOW)

    deleted = [e["data"]["object"]["id"] for e in state.events_of("customer.subscription.deleted")]
    assert deleted == [first, second]
    assert state.all("invoice") == []
    listed = client.v1.subscriptions.list({"status": "all"})
    assert {s.id for s in listed.data} == {first, second}
    assert client.v1.subscriptions.list().data == []


def test_bad_updates_are_refused_as_stripe_refuses_them(state, client) -> None:
    sub_id, item_id = monthly(state)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.subscriptions.update(sub_id, {"items": [{"id": item_id, "price": "price_x"}]})
    assert raised.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(sub_id, {"trial_end": NOW - 1})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(sub_id, {"proration_behavior": "sometimes"})
    assert state.events_of("customer.subscription.updated") == []


def test_an_item_without_an_id_is_added_beside_the_old_one(state, client) -> None:
    sub_id, _ = monthly(state)
    client.v1.subscriptions.update(
        sub_id, {"items": [{"price": "price_month", "quantity": 2}], "proration_behavior": "none"}
    )
    assert [i["quantity"] for i in state.get("subscription", sub_id)["items"]["data"]] == [1, 2]
