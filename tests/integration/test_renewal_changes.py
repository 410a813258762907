"""Changes at renewal end to end against the stateful fake Stripe: what Stripe received
(requests, keys, amounts in cents), what it charged now (nothing) and at the renewal
(exactly the new terms), and what seatflow's real services made of Stripe's own events, in
any order, twice and late; the dashboard's edits and releases, reconciliation, a trial,
offline licenses, and an upgrade while a change is pending."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from adapters import drift
from config.database import make_engine
from domain.errors import NotOwnerOrAdmin, UpgradeAlreadyOpen
from domain.licenses import ActivationStatus
from domain.model import Member
from domain.renewal import ChangeNotCancelable, ChangeState, SeatsBelowOfflineLicenses
from services import licenses, reconciliation
from services.upgrades import renewal
from tests.money_world import DAY, MoneyWorld, money_world
from tests.stripe_model import Clock, StripeServer, StripeState

JAN_1 = 1640995200  # 2022-01-01T00:00:00Z
JAN_11 = 1641859200
NEXT_YEAR = 1672531200  # 2023-01-01
FEB_2023 = 1675209600  # 2023-02-01
C = ChangeState


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


def annual(engine: Engine, server: StripeServer, seats: int = 5) -> MoneyWorld:
    return money_world(engine, server, seats=seats, interval="year", period_start=JAN_1)


def schedule_requests(world: MoneyWorld) -> list[tuple[str, str | None, dict]]:
    return [
        (r.path, r.idempotency_key, r.params)
        for r in world.server.requests("POST", "/v1/subscription_schedules*")
    ]


def renew(world: MoneyWorld, until: int = NEXT_YEAR) -> None:
    world.advance(until - world.state.now())
    world.deliver()


def test_fewer_seats_and_monthly_cost_nothing_now_and_the_renewal_bills_exactly_them(
    engine, server
) -> None:
    world = annual(engine, server)
    change = world.schedule(3, "month")

    assert (change.state, change.next_invoice_amount, change.effective_at) == (
        C.SCHEDULED,
        30000,
        at(NEXT_YEAR),
    )
    sub_id = world.stripe_subscription()["id"]
    [create, phases] = schedule_requests(world)
    assert create == (
        "/v1/subscription_schedules",
        f"seatflow-change-{change.id}-schedule",
        {"from_subscription": sub_id},
    )
    schedule_id = world.state.get("subscription", sub_id)["schedule"]
    assert phases[0:2] == (
        f"/v1/subscription_schedules/{schedule_id}",
        f"seatflow-change-{change.id}-phases",
    )
    assert phases[2]["phases"] == [
        {
            "items": [{"price": "price_node_locked_year", "quantity": "5"}],
            "start_date": str(JAN_1),
            "end_date": str(NEXT_YEAR),
            "proration_behavior": "none",
        },
        {
            "items": [{"price": "price_node_locked_month", "quantity": "3"}],
            "end_date": str(FEB_2023),
            "proration_behavior": "none",
        },
    ]
    assert phases[2]["end_behavior"] == "release"
    assert world.state.captured() == 0 and world.invoices() == []
    world.deliver()
    assert world.subscription().seats == 5  # nothing changes before the renewal

    renew(world)

    sub = world.subscription()
    assert (sub.seats, sub.interval, sub.current_period_end) == (3, "month", at(FEB_2023))
    renewal_invoice = world.invoices()[-1]
    assert (renewal_invoice["billing_reason"], renewal_invoice["total"]) == (
        "subscription_cycle",
        30000,
    )
    assert world.state.captured(customer=world.customer) == 30000
    assert world.change(change.id).state == C.APPLIED
    assert [e for e in world.ledger() if e[2] == "scheduled_change"] == [
        (3, "month", "scheduled_change", change.id)
    ]
    current = world.licenses()[0]  # newest first
    assert (current.cause, current.seats, current.interval) == (
        f"scheduled_change:{change.id}",
        3,
        "month",
    )
    release = world.server.requests("POST", f"/v1/subscription_schedules/{schedule_id}/release")
    assert [r.idempotency_key for r in release] == [f"seatflow-change-{change.id}-release"]
    assert world.state.get("subscription", sub_id)["schedule"] is None


ORDERS = ["created", "reverse", "shuffle", "invoice_first", "schedule_first", "late_and_twice"]


@pytest.mark.parametrize("order", ORDERS)
def test_stripes_renewal_events_in_any_order_twice_and_late_change_it_once(
    engine, server, order: str
) -> None:
    world = annual(engine, server)
    world.state.events.clear()
    world.delivered = 0
    change = world.schedule(4, "year")
    before = len(world.licenses())
    world.advance(NEXT_YEAR - world.state.now())
    events = json.loads(json.dumps(world.state.events[world.delivered :]))
    world.delivered = len(world.state.events)
    kinds = ("subscription_schedule.", "customer.subscription.", "invoice.paid")
    if order == "reverse":
        events.reverse()
    elif order == "shuffle":
        random.Random(7).shuffle(events)
    elif order == "invoice_first":
        events.sort(key=lambda e: not e["type"].startswith("invoice.paid"))
    elif order == "schedule_first":
        events.sort(key=lambda e: not e["type"].startswith("subscription_schedule."))
    elif order == "late_and_twice":
        events = events[::-1] + events
    for event in events:
        if event["type"].startswith(kinds):
            world.process(event)
    world.deliver()  # the release seatflow asked for, and its events

    sub = world.subscription()
    assert (sub.seats, sub.interval, sub.current_period_start) == (4, "year", at(NEXT_YEAR))
    assert world.change(change.id).state == C.APPLIED
    assert [e for e in world.ledger() if e[2] == "scheduled_change"] == [
        (4, "year", "scheduled_change", change.id)
    ]
    every = world.licenses()  # newest first
    issued = every[: len(every) - before]
    assert [lic.seats for lic in issued] == [4]
    assert issued[0].valid_until == at(1704067200) + world.deps.license_grace
    assert world.state.captured(customer=world.customer) == 400000


def test_a_canceled_change_is_released_and_the_renewal_bills_the_old_terms(engine, server) -> None:
    world = annual(engine, server)
    change = world.schedule(2, "year")
    canceled = world.cancel_change(change.id)
    assert (canceled.state, canceled.cause) == (C.CANCELED, "canceled by owner@acme.example")
    schedule_id = world.state.all("subscription_schedule")[0]["id"]
    release = world.server.requests("POST", f"/v1/subscription_schedules/{schedule_id}/release")
    assert [r.idempotency_key for r in release] == [f"seatflow-change-{change.id}-release"]

    renew(world)
    assert world.subscription().seats == 5
    assert world.state.captured(customer=world.customer) == 500000
    with pytest.raises(ChangeNotCancelable):
        world.cancel_change(change.id)


def test_a_member_may_not_schedule_and_nothing_reaches_stripe(engine, server) -> None:
    world = annual(engine, server)
    with pytest.raises(NotOwnerOrAdmin, match="schedule"):
        world.schedule(2, "year", role="member")
    assert schedule_requests(world) == []
    world.schedule(2, "year", role="admin")
    assert len(schedule_requests(world)) == 2


def _owner(world: MoneyWorld) -> Member:
    return Member(world.members["owner"], world.org_id, "owner@acme.example", "owner")


def _activate(world: MoneyWorld, *machines: str) -> None:
    for machine in machines:
        licenses.activate_offline(
            world.uow(), world.deps, world.org_id, _owner(world), "node_locked", machine
        )


def test_never_below_the_seats_active_offline_licenses_hold(engine, server) -> None:
    world = annual(engine, server)
    _activate(world, "m1", "m2", "m3")
    with pytest.raises(SeatsBelowOfflineLicenses, match="3 active offline licenses"):
        world.schedule(2, "year")
    assert schedule_requests(world) == []
    assert world.schedule(3, "year").state == C.SCHEDULED


def test_offline_licenses_above_the_new_seats_expire_at_the_old_periods_end(engine, server) -> None:
    world = annual(engine, server)
    _activate(world, "m1", "m2")
    world.schedule(2, "year")
    world.advance(300 * DAY)
    _activate(world, "m3", "m4")  # still within today's five seats
    renew(world)

    with world.uow() as uow:
        found = {a.machine_id: a for a in uow.licenses.activations(world.org_id)}
    released = [a for a in found.values() if a.status == ActivationStatus.RELEASED]
    kept = [a for a in found.values() if a.status == ActivationStatus.ACTIVE]
    assert len(released) == 2 and len(kept) == 2
    assert all(a.expires_at <= at(NEXT_YEAR) for a in released)
    assert all(a.expires_at > at(NEXT_YEAR) for a in kept)


def test_annual_to_monthly_revokes_offline_licenses_whose_files_end_with_the_year(
    engine, server
) -> None:
    world = annual(engine, server)
    world.advance(340 * DAY)
    _activate(world, "m1")
    world.schedule(5, "month")
    renew(world)
    with world.uow() as uow:
        [activation] = uow.licenses.activations(world.org_id)
    assert activation.status == ActivationStatus.REVOKED
    assert activation.expires_at <= at(NEXT_YEAR)


def test_a_change_scheduled_in_a_trial_takes_effect_when_the_trial_ends(engine, server) -> None:
    world = money_world(engine, server, seats=4, period_start=JAN_1, trial_days=14)
    trial_end = JAN_1 + 14 * DAY
    change = world.schedule(2, "month")
    assert (change.effective_at, change.next_invoice_amount) == (at(trial_end), 20000)
    phases = schedule_requests(world)[1][2]["phases"]
    assert phases[0]["trial_end"] == phases[0]["end_date"] == str(trial_end)
    assert world.state.captured() == 0

    renew(world, trial_end)

    sub = world.subscription()
    assert (sub.status, sub.seats) == ("active", 2)
    first = world.invoices()[-1]
    assert (first["billing_reason"], first["total"]) == ("subscription_cycle", 20000)
    assert world.state.captured(customer=world.customer) == 20000


def test_a_dashboard_edit_of_the_next_phase_is_the_change_now(engine, server) -> None:
    world = annual(engine, server)
    change = world.schedule(2, "year")
    schedule_id = world.state.all("subscription_schedule")[0]["id"]
    world.state.dashboard_schedule_update(schedule_id, phase=1, quantity=3)
    world.deliver()
    edited = world.change(change.id)
    assert (edited.seats, edited.next_invoice_amount, edited.state) == (3, 300000, C.SCHEDULED)

    renew(world)
    assert world.subscription().seats == 3
    assert world.state.captured(customer=world.customer) == 300000


def test_a_schedule_released_in_the_dashboard_ends_the_change(engine, server) -> None:
    world = annual(engine, server)
    change = world.schedule(2, "year")
    world.state.dashboard_schedule_release(world.state.all("subscription_schedule")[0]["id"])
    world.deliver()
    assert world.change(change.id).state == C.RELEASED
    renew(world)
    assert world.subscription().seats == 5
    assert world.state.captured(customer=world.customer) == 500000


@pytest.mark.parametrize("edit", ["quantity", "release", "remove_phase"])
def test_reconciliation_repairs_a_schedule_changed_in_the_dashboard_unseen(
    engine, server, edit: str
) -> None:
    world = annual(engine, server)
    change = world.schedule(2, "year")
    world.deliver()
    schedule_id = world.state.all("subscription_schedule")[0]["id"]
    if edit == "quantity":
        world.state.dashboard_schedule_update(schedule_id, phase=1, quantity=4)
    elif edit == "release":
        world.state.dashboard_schedule_release(schedule_id)
    else:
        world.state.dashboard_schedule_update(schedule_id, phase=1, remove=True)
    world.delivered = len(world.state.events)  # its events never arrive

    summary = reconciliation.run_all(world.uow(), world.deps, jobs=["scheduled_changes"])

    assert summary.failed == {}
    assert summary.repaired == {"scheduled_changes": 1}
    repaired = world.change(change.id)
    if edit == "quantity":
        assert (repaired.seats, repaired.state, repaired.next_invoice_amount) == (
            4,
            C.SCHEDULED,
            400000,
        )
    else:
        assert repaired.state == C.RELEASED
    [record] = [r for r in drift.rows(world.engine, "stripe_state") if r["subject"] == schedule_id]
    assert record["repaired"]
    again = reconciliation.run_all(world.uow(), world.deps, jobs=["scheduled_changes"])
    assert again.repaired == {}


def test_reconciliation_applies_a_renewal_whose_events_never_came(engine, server) -> None:
    world = annual(engine, server)
    change = world.schedule(3, "year")
    world.deliver()
    world.advance(NEXT_YEAR - world.state.now())
    world.delivered = len(world.state.events)

    summary = reconciliation.run_all(world.uow(), world.deps, jobs=["scheduled_changes"])

    assert summary.repaired == {"scheduled_changes": 1}
    assert world.change(change.id).state == C.APPLIED
    assert world.subscription().seats == 3
    assert world.licenses()[0].cause == f"scheduled_change:{change.id}"


def test_an_upgrade_while_a_change_is_pending_applies_now_and_cancels_the_change(
    engine, server
) -> None:
    world = annual(engine, server)
    change = world.schedule(3, "year")
    schedule_id = world.state.all("subscription_schedule")[0]["id"]
    upgrade = world.submit(world.estimate(6, "year"))
    world.charge(upgrade.id)
    release = f"/v1/subscription_schedules/{schedule_id}/release"
    server.fail_next(release, "api_error")  # the release task sent with the upgrade fails
    world.deliver()
    assert world.upgrade(upgrade.id).state == "applied"

    canceled = world.change(change.id)
    assert canceled.state == C.CANCELED
    assert canceled.cause is not None and f"upgrade {upgrade.id} was applied" in canceled.cause
    assert world.push(upgrade.id) is True  # releases the schedule first, then the upgrade
    posts = [(r.path, r.status) for r in world.server.requests("POST")]
    update = f"/v1/subscriptions/{world.stripe_subscription()['id']}"
    assert posts.index((release, 500)) < posts.index((release, 200)) < posts.index((update, 200))
    assert world.change(change.id).stripe_released_at is not None
    charged = world.upgrade(upgrade.id).charged_amount
    assert charged is not None and world.state.captured(customer=world.customer) == charged

    renew(world)
    assert world.subscription().seats == 6
    assert world.invoices()[-1]["total"] == 600000


def test_stripe_unavailable_leaves_the_change_scheduling_and_the_resume_finishes_it(
    engine, server
) -> None:
    world = annual(engine, server)
    server.fail_next("/v1/subscription_schedules", "api_error", method="POST")
    pending = world.schedule(2, "year")  # its Stripe step failed: a task, tried again later
    assert world.change(pending.id).state == C.SCHEDULING
    assert renewal.resume(world.uow(), world.deps) == 0  # not overdue yet
    world.advance(600)
    assert renewal.resume(world.uow(), world.deps) == 1
    assert world.change(pending.id).state == C.SCHEDULED
    assert len(world.state.all("subscription_schedule")) == 1


def test_no_change_is_scheduled_while_stripe_lacks_an_applied_upgrade(engine, server) -> None:
    world = annual(engine, server)
    upgrade = world.submit(world.estimate(6, "year"))
    world.charge(upgrade.id)
    world.deliver()  # applied; Stripe not yet given the new terms
    with pytest.raises(UpgradeAlreadyOpen, match="being given to Stripe"):
        world.schedule(3, "year")
    assert schedule_requests(world) == []
    world.push(upgrade.id)
    assert world.schedule(3, "year").state == C.SCHEDULED
    assert schedule_requests(world)[1][2]["phases"][0]["items"][0]["quantity"] == "6"


def test_a_change_scheduled_while_an_upgrade_is_unpaid_is_canceled_when_it_applies(
    engine, server
) -> None:
    world = annual(engine, server)
    upgrade = world.submit(world.estimate(6, "year"))
    change = world.schedule(3, "year")  # priced against today's five seats
    assert change.state == C.SCHEDULED
    world.charge(upgrade.id)
    world.deliver()
    assert world.change(change.id).state == C.CANCELED
    world.push(upgrade.id)
    renew(world)
    assert world.subscription().seats == 6


def test_a_schedule_seatflow_did_not_make_changes_nothing_here(engine, server) -> None:
    world = annual(engine, server)
    with world.state.lock:  # someone attaches a schedule in the dashboard
        world.state.subscription_schedules_create(
            {"from_subscription": world.stripe_subscription()["id"]}
        )
    states = dict(world.deliver())
    assert states["subscription_schedule.created"] == "ignored"
    assert world.subscription().seats == 5
    # seatflow's change then takes the schedule the subscription has
    change = world.schedule(3, "year")
    assert change.state == C.SCHEDULED
    assert change.stripe_schedule_id == world.state.all("subscription_schedule")[0]["id"]


def test_a_renewal_into_todays_terms_ends_the_change_it_did_not_bill(engine, server) -> None:
    world = annual(engine, server)
    change = world.schedule(2, "year")
    world.deliver()
    world.state.dashboard_schedule_release(world.state.all("subscription_schedule")[0]["id"])
    world.delivered = len(world.state.events)  # the release's events never arrive
    renew(world)

    assert world.change(change.id).state == C.RELEASED
    assert world.subscription().seats == 5
    assert [e for e in world.ledger() if e[2] == "scheduled_change"] == []
    assert not world.licenses()[0].cause.startswith("scheduled_change")
    assert world.state.captured(customer=world.customer) == 500000


def test_a_schedule_stripe_refuses_ends_the_change_with_the_reason(engine, server) -> None:
    world = annual(engine, server)
    world.state.dashboard_update(world.stripe_subscription()["id"], status="canceled")
    world.delivered = len(world.state.events)  # seatflow has not heard yet
    change = world.schedule(2, "year")
    assert change.state == C.CANCELED
    assert change.cause is not None and change.cause.startswith("Stripe refused the schedule")
    assert renewal.resume(world.uow(), world.deps) == 0
