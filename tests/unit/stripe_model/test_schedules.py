"""The fake Stripe's subscription schedules: made from a subscription, phases updated,
renewal into the next phase when the clock passes the period's end (the renewal invoice
bills exactly the next phase's terms), release, cancel and edits made in the dashboard."""

from __future__ import annotations

import pytest
import stripe

from tests.stripe_model import Clock, StripeState, add_interval

JAN_1 = 1640995200  # 2022-01-01T00:00:00Z: the cycle start
NOW = 1641859200  # 2022-01-11T00:00:00Z
FEB_1 = 1643673600
NEXT_YEAR = 1672531200  # 2023-01-01T00:00:00Z


@pytest.fixture
def state() -> StripeState:
    state = StripeState(Clock(frozen=NOW))
    state.create_price("price_month", unit_amount=10000, interval="month")
    state.create_price("price_year", unit_amount=100000, interval="year")
    return state


def subscription(
    state: StripeState, price: str = "price_month", quantity: int = 5, **kwargs
) -> dict:
    customer = state.create_customer("succeeds")["id"]
    return state.create_subscription(
        customer, price, quantity=quantity, period_start=JAN_1, **kwargs
    )


def schedule_fewer(
    client, sub: dict, quantity: int, price: str, end: int, next_end: int, key: str = "chg_1"
):
    created = client.v1.subscription_schedules.create(
        {"from_subscription": sub["id"]}, {"idempotency_key": f"{key}-schedule"}
    )
    first = created.phases[0]
    return client.v1.subscription_schedules.update(
        created.id,
        {
            "end_behavior": "release",
            "phases": [
                {
                    "items": [{"price": first["items"][0]["price"], "quantity": 5}],
                    "start_date": first.start_date,
                    "end_date": end,
                    "proration_behavior": "none",
                },
                {
                    "items": [{"price": price, "quantity": quantity}],
                    "end_date": next_end,
                    "proration_behavior": "none",
                },
            ],
        },
        {"idempotency_key": f"{key}-phases"},
    )


def test_a_schedule_from_a_subscription_mirrors_its_current_period(state, client) -> None:
    sub = subscription(state)
    schedule = client.v1.subscription_schedules.create({"from_subscription": sub["id"]})

    assert (schedule.status, schedule.subscription, schedule.end_behavior) == (
        "active",
        sub["id"],
        "release",
    )
    [phase] = schedule.phases
    assert (phase.start_date, phase.end_date) == (JAN_1, FEB_1)
    assert (phase["items"][0]["price"], phase["items"][0]["quantity"]) == ("price_month", 5)
    assert schedule.current_phase.start_date == JAN_1
    assert state.get("subscription", sub["id"])["schedule"] == schedule.id
    assert [e["type"] for e in state.events[-2:]] == [
        "customer.subscription.updated",
        "subscription_schedule.created",
    ]
    assert state.captured() == 0 and state.all("invoice") == []


def test_from_subscription_takes_no_other_parameter_and_one_schedule_per_subscription(
    state, client
) -> None:
    sub = subscription(state)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscription_schedules.create(
            {"from_subscription": sub["id"], "end_behavior": "cancel"}
        )
    client.v1.subscription_schedules.create({"from_subscription": sub["id"]})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.subscription_schedules.create({"from_subscription": sub["id"]})
    assert "already attached to a schedule" in str(raised.value)


def test_fewer_seats_next_period_charge_nothing_now_and_the_renewal_bills_them(
    state, client
) -> None:
    sub = subscription(state)
    schedule = schedule_fewer(client, sub, 3, "price_month", FEB_1, 1646092800)
    assert [len(p["items"]) for p in schedule.phases] == [1, 1]
    assert schedule.phases[1].start_date == FEB_1
    assert state.captured() == 0 and state.all("invoice") == []

    state.advance(FEB_1 - NOW)

    item = state.get("subscription", sub["id"])["items"]["data"][0]
    assert (item["quantity"], item["price"]["id"]) == (3, "price_month")
    renewal = state.get("invoice", state.get("subscription", sub["id"])["latest_invoice"])
    assert (renewal["billing_reason"], renewal["total"], renewal["amount_paid"]) == (
        "subscription_cycle",
        30000,
        30000,
    )
    assert [(line["quantity"], line["amount"]) for line in renewal["lines"]["data"]] == [(3, 30000)]
    assert state.captured() == 30000
    moved = state.get("subscription_schedule", schedule.id)
    assert moved["current_phase"] == {"start_date": FEB_1, "end_date": 1646092800}
    kinds = [e["type"] for e in state.events if e["created"] == FEB_1]
    assert kinds.index("subscription_schedule.updated") < kinds.index(
        "customer.subscription.updated"
    )
    assert kinds.index("customer.subscription.updated") < kinds.index("invoice.paid")


def test_annual_to_monthly_at_renewal_starts_a_monthly_cycle_then(state, client) -> None:
    sub = subscription(state, "price_year", 2)
    created = client.v1.subscription_schedules.create({"from_subscription": sub["id"]})
    first = created.phases[0]
    march = add_interval(NEXT_YEAR, "month")
    client.v1.subscription_schedules.update(
        created.id,
        {
            "phases": [
                {
                    "items": [{"price": "price_year", "quantity": 2}],
                    "start_date": first.start_date,
                    "end_date": NEXT_YEAR,
                },
                {"items": [{"price": "price_month", "quantity": 2}], "end_date": march},
            ]
        },
    )
    state.advance(NEXT_YEAR - NOW)

    current = state.get("subscription", sub["id"])
    assert state.period(current) == (NEXT_YEAR, march)
    renewal = state.get("invoice", current["latest_invoice"])
    assert (renewal["total"], renewal["lines"]["data"][0]["period"]) == (
        20000,
        {"start": NEXT_YEAR, "end": march},
    )
    assert state.captured() == 20000


def test_the_last_phase_ending_completes_the_schedule_and_releases_the_subscription(
    state, client
) -> None:
    sub = subscription(state)
    march = 1646092800
    schedule = schedule_fewer(client, sub, 3, "price_month", FEB_1, march)
    state.advance(march - NOW)

    done = state.get("subscription_schedule", schedule.id)
    assert (done["status"], done["released_subscription"]) == ("completed", sub["id"])
    assert state.get("subscription", sub["id"])["schedule"] is None
    assert state.captured() == 30000 + 30000  # February and March at the new terms


def test_release_keeps_the_subscription_on_its_terms(state, client) -> None:
    sub = subscription(state)
    schedule = schedule_fewer(client, sub, 3, "price_month", FEB_1, 1646092800)
    released = client.v1.subscription_schedules.release(
        schedule.id, options={"idempotency_key": "chg_1-release"}
    )
    assert (released.status, released.released_subscription, released.subscription) == (
        "released",
        sub["id"],
        None,
    )
    assert state.get("subscription", sub["id"])["schedule"] is None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscription_schedules.release(schedule.id)

    state.advance(FEB_1 - NOW)
    assert state.captured() == 50000  # the old terms: nothing was scheduled any more
    assert state.events_of("subscription_schedule.released")


def test_cancel_ends_the_schedule_and_its_subscription(state, client) -> None:
    sub = subscription(state)
    schedule = schedule_fewer(client, sub, 3, "price_month", FEB_1, 1646092800)
    canceled = client.v1.subscription_schedules.cancel(schedule.id)
    assert canceled.status == "canceled"
    assert state.get("subscription", sub["id"])["status"] == "canceled"
    assert state.events_of("customer.subscription.deleted")
    assert state.events_of("subscription_schedule.canceled")


def test_a_managed_subscription_refuses_cancellation_changes(state, client) -> None:
    sub = subscription(state)
    client.v1.subscription_schedules.create({"from_subscription": sub["id"]})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.subscriptions.update(sub["id"], {"cancel_at_period_end": True})
    assert "managed by the subscription schedule" in str(raised.value)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.cancel(sub["id"])


def test_phases_must_keep_the_current_phase_and_follow_each_other(state, client) -> None:
    sub = subscription(state)
    created = client.v1.subscription_schedules.create({"from_subscription": sub["id"]})
    with pytest.raises(stripe.InvalidRequestError):  # the current phase cannot move
        client.v1.subscription_schedules.update(
            created.id,
            {"phases": [{"items": [{"price": "price_month"}], "start_date": NOW}]},
        )
    with pytest.raises(stripe.InvalidRequestError):  # an end before its start
        client.v1.subscription_schedules.update(
            created.id,
            {
                "phases": [
                    {"items": [{"price": "price_month"}], "start_date": JAN_1, "end_date": JAN_1}
                ]
            },
        )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscription_schedules.update(
            created.id,
            {"phases": [{"items": [{"price": "price_x"}], "start_date": JAN_1}]},
        )


def test_dashboard_edits_of_the_next_phase_and_release_bypass_the_api(state, client) -> None:
    sub = subscription(state)
    schedule = schedule_fewer(client, sub, 3, "price_month", FEB_1, 1646092800)
    state.dashboard_schedule_update(schedule.id, phase=1, quantity=4)

    event = state.events_of("subscription_schedule.updated")[-1]
    assert event["request"]["idempotency_key"] is None
    assert event["data"]["object"]["phases"][1]["items"][0]["quantity"] == 4
    state.advance(FEB_1 - NOW)
    assert state.captured() == 40000

    other = subscription(state)
    second = schedule_fewer(client, other, 2, "price_month", FEB_1, 1646092800, key="chg_2")
    assert second.status == "active"
    state.dashboard_schedule_release(second.id)
    assert state.get("subscription_schedule", second.id)["status"] == "released"


def test_a_change_scheduled_in_a_trial_starts_when_the_trial_ends(state, client) -> None:
    trial_end = JAN_1 + 14 * 86400
    sub = subscription(state, trial_end=trial_end)
    created = client.v1.subscription_schedules.create({"from_subscription": sub["id"]})
    first = created.phases[0]
    assert (first.trial_end, first.end_date) == (trial_end, trial_end)
    client.v1.subscription_schedules.update(
        created.id,
        {
            "phases": [
                {
                    "items": [{"price": "price_month", "quantity": 5}],
                    "start_date": first.start_date,
                    "end_date": trial_end,
                    "trial_end": trial_end,
                },
                {
                    "items": [{"price": "price_month", "quantity": 2}],
                    "end_date": add_interval(trial_end, "month"),
                },
            ]
        },
    )
    assert state.get("subscription", sub["id"])["status"] == "trialing"
    state.advance(trial_end - NOW)

    current = state.get("subscription", sub["id"])
    assert (current["status"], current["items"]["data"][0]["quantity"]) == ("active", 2)
    assert state.captured() == 20000
