"""Stripe's delivery habits: the same event many times at once, events out of order."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from cli import samples
from inbox.table import inbox
from tests.builders import store_event
from tests.conftest import SECRET
from tests.faults.conftest import seats_event
from tests.support import wait_until

pytestmark = pytest.mark.slow


def test_fifty_concurrent_deliveries_of_one_event_store_one_row_with_one_effect(
    stack_factory,
) -> None:
    stack = stack_factory()
    stack.web(ready=False)
    stack.worker(concurrency=2)
    event = seats_event(seats=9, created=1_700_003_000)
    body, headers = samples.signed(event, SECRET)
    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(lambda _: samples.post(stack.hook, body, headers)[0], range(50)))
    assert statuses == [200] * 50
    wait_until(lambda: stack.state(event["id"]) == ("applied", 1), 30)
    assert stack.effects(event["id"]) == (1, 1, 1)
    assert stack.count(inbox) == 1


@pytest.mark.parametrize("order", ["reverse", "shuffled"])
def test_out_of_order_updates_end_in_the_newest_state(stack_factory, order: str) -> None:
    stack = stack_factory()
    stack.web(ready=False)
    # One process keeps the broker's order, so "reverse" really applies the newest first.
    stack.worker(concurrency=1 if order == "reverse" else 2)
    events = [seats_event(seats=n, created=1_700_004_000 + n) for n in range(2, 22)]
    newest = events[-1]
    delivery = list(reversed(events)) if order == "reverse" else random.sample(events, len(events))
    assert [stack.post(e) for e in delivery] == [200] * len(events)
    wait_until(
        lambda: all(stack.state(e["id"])[0] in ("applied", "skipped_stale") for e in events), 45
    )
    assert stack.seats() == 21
    assert stack.state(newest["id"]) == ("applied", 1)
    if order == "reverse":
        # The newest arrived first; every older one was recorded as stale, with its reason.
        assert {stack.state(e["id"])[0] for e in events[:-1]} == {"skipped_stale"}


def test_an_older_update_racing_a_newer_one_waits_for_the_organization_then_is_stale(
    stack_factory,
) -> None:
    stack = stack_factory()
    stack.worker(concurrency=2)
    newer = store_event(stack.engine, seats_event(seats=7, created=1_700_005_010))
    # Hold the subscription's row, so the newer event stops while it writes, inside its
    # transaction; the older one, delivered late and sent next, must then wait for the
    # organization's row lock rather than read the state the newer one is about to replace.
    # (Stored before, the older one would be taken on by the newer one's message and applied
    # first, in the order they arrived.)
    holder = stack.engine.connect()
    holder.execute(text("SELECT id FROM subscriptions FOR NO KEY UPDATE"))
    try:
        stack.send([newer])
        wait_until(lambda: stack.waiting_for_locks() == 1, 20)
        older = store_event(stack.engine, seats_event(seats=6, created=1_700_005_000))
        stack.send([older])
        wait_until(lambda: stack.waiting_for_locks() == 2, 20)
    finally:
        holder.rollback()
        holder.close()
    wait_until(lambda: all(stack.state(e)[0] != "received" for e in (older, newer)), 30)
    assert stack.state(newer) == ("applied", 1)
    assert stack.state(older) == ("skipped_stale", 1)
    assert stack.seats() == 7
