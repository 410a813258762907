"""Group commit: many concurrent deliveries, one INSERT per batch, each answered exactly."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from cli import samples
from config.database import make_engine
from inbox.events import IncomingEvent
from inbox.table import inbox
from tests.support import wait_until
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
    # The first delivery leads and waits for more: a condition, not a sleep.
    wait_until(lambda: writer._leading and early.outcome is None, timeout=10, interval=0.01)
    started = time.monotonic()
    assert writer.store(delivery("evt_late")) is True
    first.join()
    assert messages == [["evt_early", "evt_late"]]
    # Answered with the first one's commit, at the end of its wait, not after a wait of its own.
    assert time.monotonic() - started < 2 * wait


class _HeldInsert(InboxWriter):
    """A writer whose inserts wait until the test lets them go, recording their sizes."""

    def __init__(self, *args, **kwargs) -> None:
        import threading

        super().__init__(*args, **kwargs)
        self.go = threading.Event()
        self.entered = threading.Semaphore(0)
        self.inserts: list[list[str]] = []

    def _execute(self, params: list[dict[str, object]]) -> list[str]:
        self.inserts.append([str(p["event_id"]) for p in params])
        self.entered.release()
        assert self.go.wait(10)
        return super()._execute(params)


def _waiting(writer: InboxWriter, count: int) -> None:
    wait_until(lambda: len(writer._waiting) == count, timeout=10, interval=0.005)


def test_requests_waiting_while_an_insert_runs_are_written_together_by_the_oldest(
    sqlite_settings,
) -> None:
    """The thread whose insert ran hands the lead to the oldest waiting request, whose
    thread writes everything that waited in one insert and answers each."""
    published: list[list[str]] = []
    writer = _HeldInsert(make_engine(sqlite_settings), published.append)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(writer.store, delivery("evt_lead"))
        assert writer.entered.acquire(timeout=10)  # the first insert runs, alone
        later = [pool.submit(writer.store, delivery(f"evt_next{i}")) for i in range(3)]
        _waiting(writer, 3)
        writer.go.set()
        assert first.result(10) is True
        assert [f.result(10) for f in later] == [True, True, True]
    assert writer.inserts == [["evt_lead"], ["evt_next0", "evt_next1", "evt_next2"]]
    assert published == writer.inserts
    assert not writer._leading and not writer._waiting  # idle again: the next one leads


def test_a_request_that_waited_too_long_is_answered_with_an_error_and_not_written(
    sqlite_settings,
) -> None:
    """Its 503 tells Stripe to send it again; the insert that follows does not store it
    behind the answer's back, and the requests after it are still written."""
    engine = make_engine(sqlite_settings)
    writer = _HeldInsert(engine, lambda _ids: None)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(writer.store, delivery("evt_slow"))
        assert writer.entered.acquire(timeout=10)
        gave_up = pool.submit(writer.store, delivery("evt_gave_up"), 0.05)
        try:
            gave_up.result(10)
        except TimeoutError:
            pass
        else:
            raise AssertionError("the waiting request should have timed out")
        patient = pool.submit(writer.store, delivery("evt_patient"))
        _waiting(writer, 1)
        writer.go.set()
        assert (first.result(10), patient.result(10)) == (True, True)
    assert writer.inserts == [["evt_slow"], ["evt_patient"]]
    with engine.connect() as conn:
        stored = set(conn.scalars(select(inbox.c.event_id)))
    assert stored == {"evt_slow", "evt_patient"}


def test_two_deliveries_of_one_event_wait_as_two_requests(sqlite_settings) -> None:
    """A duplicate that gives up waiting takes itself out of the queue, not its twin."""
    writer = _HeldInsert(make_engine(sqlite_settings), lambda _ids: None)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(writer.store, delivery("evt_busy"))
        assert writer.entered.acquire(timeout=10)
        twin = pool.submit(writer.store, delivery("evt_twin"))
        _waiting(writer, 1)
        impatient = pool.submit(writer.store, delivery("evt_twin"), 0.05)
        wait_until(impatient.done, timeout=10, interval=0.005)
        writer.go.set()
        assert (first.result(10), twin.result(10)) == (True, True)
    assert writer.inserts == [["evt_busy"], ["evt_twin"]]


def test_a_quiet_writer_keeps_no_thread_and_starts_one_again_when_it_writes(
    sqlite_settings,
) -> None:
    """The idle closer ends once the writer is quiet (a writer made and dropped, as each
    test or a one-off command does, leaves no thread behind) and comes back with the next
    delivery."""
    import threading

    def closers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "inbox-writer-idle"}

    engine = make_engine(sqlite_settings)
    before = closers()  # other writers' (earlier tests'), which may end at any time
    writer = InboxWriter(engine, lambda _ids: None, idle=1.0)  # lives 1 s after a write
    assert writer.store(delivery("evt_quiet_1")) is True
    wait_until(lambda: not closers() - before, 30)
    assert writer.store(delivery("evt_quiet_2")) is True
    assert len(closers() - before) == 1
    wait_until(lambda: not closers() - before, 30)
