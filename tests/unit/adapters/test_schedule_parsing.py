"""Stripe subscription schedules at the door: typed phases, a phase of several prices refused
by name (the event is stored `ignored`, never applied as something else), and the price and
quantity a renewal invoice bills."""

from __future__ import annotations

import json

from adapters.stripe_door import admit
from adapters.stripe_parsing import invoice_fact, to_command
from domain.renewal import SyncSchedule
from inbox.origin import Origin

SCHEDULE = {
    "id": "sub_sched_1",
    "object": "subscription_schedule",
    "customer": "cus_1",
    "status": "active",
    "subscription": "sub_1",
    "released_subscription": None,
    "released_at": None,
    "current_phase": {"start_date": 100, "end_date": 200},
    "phases": [
        {"start_date": 100, "end_date": 200, "items": [{"price": "price_y", "quantity": 5}]},
        {"start_date": 200, "end_date": 300, "items": [{"price": {"id": "price_m"}}]},
    ],
}


def event(obj: dict, kind: str = "subscription_schedule.updated") -> dict:
    return {"id": "evt_1", "object": "event", "type": kind, "created": 150, "data": {"object": obj}}


def test_a_schedule_event_becomes_its_typed_phases() -> None:
    command = to_command(event(SCHEDULE))
    assert isinstance(command, SyncSchedule)
    fact = command.schedule
    assert (fact.schedule_id, fact.customer_id, fact.subscription_id, fact.live) == (
        "sub_sched_1",
        "cus_1",
        "sub_1",
        True,
    )
    assert [(p.start, p.end, p.price_id, p.quantity) for p in fact.phases] == [
        (100, 200, "price_y", 5),
        (200, 300, "price_m", 1),
    ]
    assert fact.phase_from(200) == fact.phases[1] and fact.phase_from(250) is None
    assert command.version == 150


def test_a_released_schedule_names_the_subscription_it_released_and_when() -> None:
    released = SCHEDULE | {
        "status": "released",
        "subscription": None,
        "released_subscription": "sub_1",
        "released_at": 180,
        "current_phase": None,
    }
    fact = to_command(event(released, "subscription_schedule.released")).schedule
    assert (fact.subscription_id, fact.live, fact.ended_at, fact.current_start) == (
        "sub_1",
        False,
        180,
        None,
    )


def test_a_phase_of_several_prices_is_refused_by_name_and_the_schedule_read_again() -> None:
    two = {
        **SCHEDULE,
        "phases": [{**SCHEDULE["phases"][0], "items": [{"price": "a"}, {"price": "b"}]}],
    }
    read: list[tuple[str, str]] = []

    def fetch(kind: str, object_id: str) -> dict:
        read.append((kind, object_id))
        return two

    admitted = admit(json.dumps(event(SCHEDULE)), fetch, False, Origin())
    assert admitted.command is None
    assert admitted.refused is not None and "2 prices" in admitted.refused
    assert read == [("subscription_schedule", "sub_sched_1")]


def test_a_renewal_invoice_says_which_price_and_quantity_it_bills() -> None:
    line = {
        "period": {"start": 200, "end": 300},
        "pricing": {"type": "price_details", "price_details": {"price": "price_m"}},
        "quantity": 3,
    }
    fact = invoice_fact({"id": "in_1", "lines": {"data": [line]}})
    assert (fact.line_price_id, fact.line_quantity) == ("price_m", 3)
    old = invoice_fact({"id": "in_2", "lines": {"data": [{"price": {"id": "p"}, "quantity": 2}]}})
    assert (old.line_price_id, old.line_quantity) == ("p", 2)
