"""Thin events, fetch-back and same-second ties: the state applied is Stripe's own."""

from __future__ import annotations

import dataclasses
import json

from services import stripe_events
from tests.builders import build_world, store_event, subscription_event
from tests.fakes import FakeGateway, fake_deps


def thin_event(sub_id: str = "sub_acme_nl", event_type: str = "v1.customer.subscription.updated"):
    return {
        "id": "evt_thin_1",
        "object": "v2.core.event",
        "type": event_type,
        "created": "2022-01-05T10:00:00.000Z",
        "livemode": False,
        "context": None,
        "related_object": {
            "id": sub_id,
            "type": "subscription",
            "url": f"/v1/subscriptions/{sub_id}",
        },
        "reason": None,
    }


def seats(uow, org_id: str) -> int:
    with uow:
        return uow.organizations.get(org_id).subscriptions[0].seats


def test_a_thin_event_is_processed_from_the_fetched_object(uow) -> None:
    world = build_world(uow)
    gateway = FakeGateway()
    current = subscription_event("cus_acme", seats=9)["data"]["object"]
    gateway.objects["sub_acme_nl"] = current
    deps = fake_deps(gateway=gateway)
    event_id = store_event(uow, thin_event())
    assert stripe_events.process_stripe_event(event_id, uow, deps) == "applied"
    assert gateway.fetched == [("subscription", "sub_acme_nl")]
    assert seats(uow, world.org_id) == 9


def test_verify_by_fetch_applies_stripes_state_not_the_payload(uow) -> None:
    world = build_world(uow)
    gateway = FakeGateway()
    gateway.objects["sub_acme_nl"] = subscription_event("cus_acme", seats=2)["data"]["object"]
    forged = subscription_event("cus_acme", seats=500, created=1_700_000_000)
    forged["type"] = "customer.subscription.updated"
    deps = fake_deps(gateway=gateway, verify_by_fetch=True)
    assert stripe_events.process_stripe_event(store_event(uow, forged), uow, deps) == "applied"
    assert seats(uow, world.org_id) == 2


def test_a_same_second_tie_is_broken_by_asking_stripe(uow) -> None:
    world = build_world(uow)  # the subscription was applied at version 1_640_995_200
    gateway = FakeGateway()
    gateway.objects["sub_acme_nl"] = subscription_event("cus_acme", seats=4)["data"]["object"]
    tie = subscription_event("cus_acme", seats=3, created=1_640_995_200)
    tie["type"] = "customer.subscription.updated"
    deps = dataclasses.replace(fake_deps(gateway=gateway), tie_break_by_fetch=True)
    assert stripe_events.process_stripe_event(store_event(uow, tie), uow, deps) == "applied"
    assert seats(uow, world.org_id) == 4


def test_a_stale_event_is_recorded_with_its_reason(uow) -> None:
    build_world(uow)
    old = subscription_event("cus_acme", seats=7, created=1_600_000_000)
    old["type"] = "customer.subscription.updated"
    event_id = store_event(uow, old)
    assert stripe_events.process_stripe_event(event_id, uow, fake_deps()) == ("skipped_stale")
    with uow:
        note = uow.inbox.full_row(event_id)["last_error"]
    assert note == stripe_events.STALE_NOTE
    assert json.loads(json.dumps(old))["id"] == event_id


def test_a_thin_event_of_another_account_is_ignored_and_nothing_is_fetched(uow) -> None:
    """A thin event names its account in `context`: one of a connected account this service
    does not act for is stored ignored with the reason, never applied."""
    world = build_world(uow)
    gateway = FakeGateway()
    gateway.objects["sub_acme_nl"] = subscription_event("cus_acme", seats=9)["data"]["object"]
    deps = fake_deps(gateway=gateway)
    foreign = thin_event() | {"context": "acct_foreign"}
    event_id = store_event(uow, foreign)
    assert stripe_events.process_stripe_event(event_id, uow, deps) == "ignored"
    assert gateway.fetched == []
    assert seats(uow, world.org_id) != 9
    with uow:
        assert "acct_foreign" in uow.inbox.full_row(event_id)["last_error"]
