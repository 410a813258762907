"""A worker dies while it writes, right after it commits, between two events of one message:
every event still takes effect exactly once.

The worker runs in one process (`--pool solo`), so the fault point (config/faults.py) kills the
whole worker, as a power cut would: nothing is rolled back by hand, nothing acknowledged. A
new worker then gets the message back from the broker once its visibility timeout is over.
No beat runs, so nothing but the broker's redelivery can finish the work.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from config import faults
from services import stripe_events
from tests.builders import store_event
from tests.fakes import fake_deps
from tests.faults.conftest import Stack, seats_event
from tests.support import Process, redis_server, wait_until

pytestmark = pytest.mark.slow
T = 1_700_010_000


def _died_at_the_fault(worker: Process, marker: Path) -> None:
    wait_until(lambda: worker.popen.poll() is not None, 30)
    assert worker.popen.returncode == faults.EXIT_CODE, worker.output()
    assert marker.exists()


def _redelivered(worker: Process, messages: int = 1) -> None:
    """Wait until the new worker has run the message(s) the dead one left unacknowledged."""
    wait_until(lambda: worker.output().count("succeeded in") >= messages, 45)


def test_a_worker_killed_while_it_writes_applies_the_event_once(stack_factory, tmp_path) -> None:
    with redis_server() as (url, _stop, _start):
        stack: Stack = stack_factory(CELERY_BROKER_URL=url, BROKER_VISIBILITY_TIMEOUT="3")
        event = store_event(stack.engine, seats_event(seats=6, created=T))
        marker = tmp_path / "killed-after-effect"
        first = stack.worker(pool="solo", **{faults.AFTER_EFFECT: str(marker)})
        stack.send([event])
        _died_at_the_fault(first, marker)
        # Its writes were never committed: nothing of the event is visible.
        assert stack.state(event) == ("received", 0)
        assert stack.effects(event)[2] == 0
        second = stack.worker(pool="solo")
        _redelivered(second)
    assert stack.state(event) == ("applied", 1)
    assert stack.seats() == 6
    assert stack.effects(event) == (1, 1, 1)


def test_a_worker_killed_after_its_commit_leaves_the_event_done_for_the_redelivery(
    stack_factory, tmp_path
) -> None:
    """The effect and the inbox row's `applied` share one commit. Had they two, the worker
    could die between them; the redelivered message would then apply the event again, after
    a newer one, and record it `skipped_stale` although its effect was applied."""
    with redis_server() as (url, _stop, _start):
        stack: Stack = stack_factory(CELERY_BROKER_URL=url, BROKER_VISIBILITY_TIMEOUT="3")
        older = store_event(stack.engine, seats_event(seats=6, created=T))
        newer = store_event(stack.engine, seats_event(seats=7, created=T + 10))
        marker = tmp_path / "killed-after-commit"
        first = stack.worker(pool="solo", **{faults.AFTER_COMMIT: str(marker)})
        stack.send([older])
        _died_at_the_fault(first, marker)
        assert stack.state(older) == ("applied", 1)
        # While the message waits for its redelivery, another worker applies a newer state.
        stripe_events.process_stripe_event(newer, SqlUnitOfWork(stack.engine), fake_deps())
        second = stack.worker(pool="solo")
        _redelivered(second)
    assert stack.state(older) == ("applied", 1)
    assert stack.state(newer) == ("applied", 1)
    assert stack.seats() == 7
    assert stack.effects(newer) == (1, 1, 1)


def test_a_worker_killed_between_two_events_of_a_message_applies_each_once(
    stack_factory, tmp_path
) -> None:
    with redis_server() as (url, _stop, _start):
        stack: Stack = stack_factory(CELERY_BROKER_URL=url, BROKER_VISIBILITY_TIMEOUT="3")
        events = [store_event(stack.engine, seats_event(seats=n, created=T + n)) for n in (4, 5, 6)]
        marker = tmp_path / "killed-between-events"
        first = stack.worker(pool="solo", **{faults.AFTER_COMMIT: str(marker)})
        stack.send(events)
        _died_at_the_fault(first, marker)
        # The first event is committed, the others not started: the message is not acked.
        assert [stack.state(e) for e in events] == [("applied", 1)] + [("received", 0)] * 2
        second = stack.worker(pool="solo")
        _redelivered(second)
    assert [stack.state(e) for e in events] == [("applied", 1)] * 3
    assert stack.seats() == 6
    assert stack.effects(events[-1]) == (1, 1, 1)
