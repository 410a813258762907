"""Group commit: many concurrent deliveries, one INSERT per batch, each answered exactly."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from adapters.orm import inbox
from cli import samples
from config.database import make_engine
from tests.support import wait_until
from webhooks.inbox import IncomingEvent
from webhooks.writer import Delivery, InboxWriter


def delivery(event_id: str, state: str = "received") -> Delivery:
    body = json.dumps(
        samples.event(
            "customer.subscription.updated",
            samples.subscription_object(customer="cus_w"),
            event_id=event_id,
        )
    ).encode()
    return Delivery(IncomingEvent.parse(body), body, 0, state)


def test_concurrent_deliveries_with_duplicates_are_new_exactly_once(sqlite_settings) -> None:
    engine = make_engine(sqlite_settings)
    published: list[str] = []
    writer = InboxWriter(engine, published.extend, max_batch=16)
    ids = [f"evt_{i % 40}" for i in range(200)]  # every event five times
    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(lambda event_id: writer.store(delivery(event_id)), ids))
    assert sum(results) == 40
    assert sorted(published) == sorted({*ids})
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(inbox)) == 40


def test_ignored_events_are_stored_but_not_published(sqlite_settings) -> None:
    published: list[str] = []
    writer = InboxWriter(make_engine(sqlite_settings), published.extend)
    assert writer.store(delivery("evt_ignored", state="ignored")) is True
    assert published == []


def test_a_failed_insert_fails_every_waiting_delivery(sqlite_settings, tmp_path) -> None:
    broken = sqlite_settings.with_overrides(database_url=f"sqlite:///{tmp_path}/no/db.sqlite")
    writer = InboxWriter(make_engine(broken), lambda _ids: None)
    try:
        writer.store(delivery("evt_x"))
    except Exception as exc:
        assert "unable to open database" in str(exc)
    else:
        raise AssertionError("the insert should have failed")


def test_deliveries_arriving_within_the_wait_share_one_commit_and_one_message(
    sqlite_settings,
) -> None:
    import threading
    import time

    messages: list[list[str]] = []
    wait = 3.0
    writer = InboxWriter(make_engine(sqlite_settings), messages.append, max_wait=wait)
    early = delivery("evt_early")
    first = threading.Thread(target=writer.store, args=(early,))
    first.start()
    # The writer took the first delivery and is collecting more: a condition, not a sleep.
    wait_until(lambda: writer._queue.empty() and not early.done.done(), timeout=10, interval=0.01)
    started = time.monotonic()
    assert writer.store(delivery("evt_late")) is True
    first.join()
    assert messages == [["evt_early", "evt_late"]]
    # Answered with the first one's commit, at the end of its wait, not after a wait of its own.
    assert time.monotonic() - started < 2 * wait
