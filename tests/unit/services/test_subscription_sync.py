"""Stripe subscription events → domain state, and the per-subscription version guard."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from adapters.stripe_parsing import MAPPERS, subscription_snapshot
from cli import samples
from config.events import HANDLED_EVENT_TYPES
from domain.model import Interval, Organization, SyncOutcome
from domain.ports import UnitOfWork
from services import admin, stripe_events
from tests.conftest import stripe_fixture
from tests.fakes import FakeUnitOfWork, fake_deps

DEPS = fake_deps()


def test_every_handled_event_type_has_a_mapper_and_no_more() -> None:
    assert set(MAPPERS) == HANDLED_EVENT_TYPES


def test_every_command_an_event_makes_has_its_handler() -> None:
    """A new Stripe event type: its name for the receiver, its parser and command, and the
    command's handler; this fails until all three are there."""
    from adapters.stripe_parsing import EVENTS

    assert set(EVENTS) == HANDLED_EVENT_TYPES
    made = {command for _, command in EVENTS.values()}
    assert made == set(stripe_events.HANDLERS)


def test_stripe_fixture_subscription_maps_period_from_its_item() -> None:
    sub = copy.deepcopy(stripe_fixture("subscription"))
    sub["items"]["data"][0]["price"]["metadata"] = {"license_type": "floating"}
    snap = subscription_snapshot(sub, version=7)
    item = sub["items"]["data"][0]
    assert snap.stripe_subscription_id == "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw"
    assert snap.stripe_item_id == item["id"]
    assert snap.stripe_price_id == "price_1PgafmB7WZ01zgkW6dKueIc5"
    assert (snap.license_type, snap.seats, snap.interval) == ("floating", 1, Interval.MONTH)
    assert snap.current_period_start == datetime.fromtimestamp(item["current_period_start"], UTC)
    assert snap.current_period_end == datetime.fromtimestamp(item["current_period_end"], UTC)
    assert snap.version == 7


def test_a_price_without_license_type_leaves_it_to_the_catalog() -> None:
    assert subscription_snapshot(stripe_fixture("subscription"), version=1).license_type == ""


def _snapshot(seats: int, version: int):
    obj = samples.subscription_object(customer="cus_1", seats=seats)
    return subscription_snapshot(obj, version)


def test_an_older_snapshot_never_overwrites_a_newer_one() -> None:
    org = Organization(id="org_1", name="Acme")
    assert org.sync_subscription(_snapshot(seats=5, version=200)).outcome is SyncOutcome.APPLIED
    assert (
        org.sync_subscription(_snapshot(seats=3, version=100)).outcome is SyncOutcome.SKIPPED_STALE
    )
    assert org.subscriptions[0].seats == 5
    assert org.sync_subscription(_snapshot(seats=9, version=300)).outcome is SyncOutcome.APPLIED
    assert org.subscriptions[0].seats == 9
    assert len(org.subscriptions) == 1


# The processor, on the fakes of the ports (what only SQL does, in
# tests/unit/adapters/test_unit_of_work_transactions.py).


@pytest.fixture
def uow(uow: FakeUnitOfWork) -> FakeUnitOfWork:
    admin.create_organization(uow, "Acme", "org_acme", "cus_acme")
    return uow


def store(uow: UnitOfWork, event: dict) -> str:
    from tests.builders import store_event

    return store_event(uow, event)


def corrupt(uow: FakeUnitOfWork, event_id: str) -> None:
    """A payload that cannot be read: it fails like a bug would."""
    next(r for r in uow.inbox.rows if r["event_id"] == event_id)["payload"] = "{"


def sub_event(
    seats: int, created: int, event_id: str | None = None, customer: str = "cus_acme", **kw
) -> dict:
    obj = samples.subscription_object(customer=customer, seats=seats, **kw)
    return samples.event("customer.subscription.updated", obj, created=created, event_id=event_id)


def seats_of(uow: UnitOfWork) -> int:
    with uow:
        return uow.organizations.get("org_acme").subscriptions[0].seats


def state_of(uow: UnitOfWork, event_id: str) -> tuple[str, int, str | None]:
    with uow:
        row = uow.inbox.get(event_id)
        return row.state, row.attempts, row.last_error


def test_processing_applies_the_event_and_a_second_run_is_a_no_op(uow) -> None:
    event_id = store(uow, sub_event(seats=4, created=100))
    assert stripe_events.process_stripe_event(event_id, uow, DEPS) == "applied"
    assert stripe_events.process_stripe_event(event_id, uow, DEPS) == "applied"
    assert seats_of(uow) == 4
    assert state_of(uow, event_id)[:2] == ("applied", 1)


def test_a_stale_event_is_recorded_as_skipped(uow) -> None:
    stripe_events.process_stripe_event(store(uow, sub_event(seats=8, created=200)), uow, DEPS)
    stale = store(uow, sub_event(seats=2, created=100))
    assert stripe_events.process_stripe_event(stale, uow, DEPS) == "skipped_stale"
    assert seats_of(uow) == 8


def test_an_event_for_an_unknown_customer_goes_dead_with_its_code(uow) -> None:
    event = sub_event(seats=1, created=1)
    event["data"]["object"]["customer"] = "cus_nobody"
    event_id = store(uow, event)
    assert stripe_events.process_stripe_event(event_id, uow, DEPS) == "dead"
    state, attempts, error = state_of(uow, event_id)
    assert (state, attempts) == ("dead", 1)
    assert error.startswith("organization_not_found")


def test_an_organization_is_found_only_by_its_stripe_customer_never_by_metadata(uow) -> None:
    admin.create_organization(uow, "Beta", "org_beta")  # no Stripe customer yet
    event = sub_event(seats=2, created=1, organization_id="org_beta")
    event["data"]["object"]["customer"] = "cus_beta"
    assert stripe_events.process_stripe_event(store(uow, event), uow, DEPS) == "dead"
    with uow:
        assert uow.organizations.get_by_customer("cus_beta") is None
        assert uow.organizations.get("org_beta").subscriptions == []


def test_a_deleted_subscription_is_marked_canceled(uow) -> None:
    stripe_events.process_stripe_event(store(uow, sub_event(seats=3, created=1)), uow, DEPS)
    obj = samples.subscription_object(customer="cus_acme", seats=3, status="canceled")
    event = samples.event("customer.subscription.deleted", obj, created=2)
    assert stripe_events.process_stripe_event(store(uow, event), uow, DEPS) == "applied"
    with uow:
        assert uow.organizations.get("org_acme").subscriptions[0].status == "canceled"


def test_replay_reruns_the_stored_payload(uow) -> None:
    event_id = store(uow, sub_event(seats=6, created=50))
    stripe_events.process_stripe_event(event_id, uow, DEPS)
    assert admin.replay_event(uow, DEPS, event_id) == "applied"
    assert admin.replay_event(uow, DEPS, "evt_missing") == "missing"
    with uow:
        assert uow.inbox.full_row(event_id)["attempts"] == 2


def test_failures_are_counted_and_the_last_one_makes_the_event_dead(uow) -> None:
    event_id = store(uow, sub_event(seats=1, created=1))
    stripe_events.record_failure(event_id, uow, RuntimeError("stripe timeout"), final=False)
    assert state_of(uow, event_id) == ("received", 1, "RuntimeError: stripe timeout")
    stripe_events.record_failure(event_id, uow, RuntimeError("stripe timeout"), final=True)
    assert state_of(uow, event_id)[:2] == ("dead", 2)


def test_a_batch_applies_each_event_and_hands_a_failing_one_to_its_own_retries(uow) -> None:
    first = store(uow, sub_event(seats=2, created=10))
    broken = store(uow, sub_event(seats=3, created=20))
    last = store(uow, sub_event(seats=5, created=30))
    corrupt(uow, broken)
    retried: list[str] = []

    def retry_alone(event_id: str) -> bool:
        retried.append(event_id)
        return True

    states = stripe_events.process_stripe_events(
        [first, broken, last, first], lambda: uow, DEPS, retry_alone
    )
    assert states == {"applied": 3, "retrying": 1}
    assert retried == [broken]
    assert seats_of(uow) == 5
    state, attempts, error = state_of(uow, broken)
    assert (state, attempts) == ("received", 1)
    assert error.startswith("NotAnEvent")


def test_a_failed_hand_over_leaves_the_event_pending_for_the_sweeper(uow) -> None:
    broken = store(uow, sub_event(seats=3, created=20))
    corrupt(uow, broken)
    states = stripe_events.process_stripe_events([broken], lambda: uow, DEPS, lambda _: False)
    assert states == {"pending": 1}
    assert state_of(uow, broken)[0] in ("received", "queued")


def test_a_batch_in_one_transaction_gives_each_change_its_own_license_version(uow) -> None:
    ids = [store(uow, sub_event(seats=n, created=10 * n)) for n in (1, 2, 3)]
    replayed = [*ids, ids[0]]  # a duplicate in the same message is a no-op
    transactions: list[UnitOfWork] = []

    def unit_of_work() -> UnitOfWork:
        transactions.append(uow)
        return transactions[-1]

    states = stripe_events.process_stripe_events(replayed, unit_of_work, DEPS, lambda _: False)
    assert states == {"applied": 4}  # the duplicate reports the state its row already has
    assert len(transactions) == 1  # all of them in one transaction, none applied alone
    with uow:
        org = uow.organizations.list()[0]
        history = uow.licenses.history(org.id)
    assert [(x.version, x.seats, x.status) for x in sorted(history, key=lambda x: x.version)] == [
        (1, 1, "superseded"),
        (2, 2, "superseded"),
        (3, 3, "current"),
    ]


def test_a_broken_rule_in_a_batch_costs_only_its_own_event(uow) -> None:
    good = store(uow, sub_event(seats=2, created=10))
    stranger = store(uow, sub_event(seats=9, created=20, customer="cus_nobody"))
    later = store(uow, sub_event(seats=4, created=30))
    states = stripe_events.process_stripe_events(
        [good, stranger, later], lambda: uow, DEPS, lambda _: False
    )
    assert states == {"applied": 2, "dead": 1}
    assert state_of(uow, stranger)[0] == "dead"
    assert seats_of(uow) == 4


def test_an_unknown_customer_cannot_change_another_organizations_seats(uow) -> None:
    stripe_events.process_stripe_event(store(uow, sub_event(seats=3, created=1)), uow, DEPS)
    event = sub_event(seats=40, created=2, organization_id="org_acme")
    event["data"]["object"]["customer"] = "cus_stranger"
    assert stripe_events.process_stripe_event(store(uow, event), uow, DEPS) == "dead"
    assert seats_of(uow) == 3
    with uow:
        assert uow.organizations.get("org_acme").stripe_customer_id == "cus_acme"


def test_a_second_live_subscription_of_a_license_type_is_drift_and_never_cancels_the_first() -> (
    None
):
    """Two live Stripe subscriptions of one license type for one customer: the second is
    flagged as drift, not taken; the deletion of a subscription that is not the current one
    never cancels the current one nor revokes its license."""
    from tests.builders import build_world, store_event, subscription_event

    uow = FakeUnitOfWork()
    world = build_world(uow, sub_id="sub_first", seats=3)

    def apply(event):
        return stripe_events.process_stripe_event(store_event(uow, event), uow, DEPS)

    first = subscription_event("cus_acme", sub_id="sub_first", seats=3, created=1_640_999_000)
    first["type"] = "customer.subscription.updated"
    first["data"]["object"]["quantity"] = first["data"]["object"]["items"]["data"][0][
        "quantity"
    ] = 4
    assert apply(first) == "applied"  # its license is issued
    second = subscription_event("cus_acme", sub_id="sub_second", seats=1, created=1_641_000_000)
    assert apply(second) == "ignored"
    deleted = subscription_event(
        "cus_acme", sub_id="sub_second", seats=1, status="canceled", created=1_641_000_100
    )
    deleted["type"] = "customer.subscription.deleted"
    assert apply(deleted) == "ignored"

    with uow:
        org = uow.organizations.get(world.org_id)
        [sub] = org.subscriptions
        assert (sub.stripe_subscription_id, sub.status, sub.seats) == ("sub_first", "active", 4)
        license = uow.licenses.current(world.org_id, "node_locked")
        assert (license.status, license.seats) == ("current", 4)
    flagged = [(r["kind"], r["subject"], r["flagged"]) for r in uow.drift.records]
    assert flagged == [("stripe_state", "sub_second", True)]


@pytest.mark.parametrize(
    "recurring", [{"interval": "month", "interval_count": 3}, {"interval": "week"}]
)
def test_a_price_seatflow_cannot_represent_is_refused_at_the_door_by_name(recurring) -> None:
    """A subscription billed every 3 months (or weekly) is not imported as monthly: its event
    is stored ignored, naming the price and why, and the subscription is left as it was."""
    from tests.builders import build_world, store_event, subscription_event

    uow = FakeUnitOfWork()
    world = build_world(uow)
    event = subscription_event("cus_acme", seats=5, created=1_641_000_000)
    event["type"] = "customer.subscription.updated"
    price = event["data"]["object"]["items"]["data"][0]["price"]
    price["recurring"] = {**price["recurring"], "interval_count": 1, **recurring}
    event_id = store_event(uow, event)
    assert stripe_events.process_stripe_event(event_id, uow, DEPS) == "ignored"
    with uow:
        note = uow.inbox.full_row(event_id)["last_error"]
        assert price["id"] in note and "monthly and yearly" in note
        assert uow.organizations.get(world.org_id).subscriptions[0].seats == 1
