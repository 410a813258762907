"""A worker dies while it writes, right after it commits, between two events of one message:
every event still takes effect exactly once.

The fault point (config/faults.py) ends the process that reaches it at once, as a power cut
would: nothing is rolled back by hand, nothing acknowledged. With `--pool solo` that is the
whole worker, and a new worker gets the message back from the broker once its visibility
timeout is over; with `--pool prefork` it is the child running the task, and its parent gives
the message back (which it can only do if the message was not acknowledged before the task
ran). No beat runs, so nothing but the broker's redelivery can finish the work.
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


@pytest.fixture(params=["solo", "prefork"])
def pool(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _kill_at(stack: Stack, pool: str, point: str, marker: Path, event_ids: list[str]) -> Process:
    """Send one message naming `event_ids` to a worker armed to die at `point`; wait until it
    died there. Returns the worker that will run the redelivered message."""
    first = stack.worker(pool=pool, **{point: str(marker)})
    stack.send(event_ids)
    wait_until(marker.exists, 30)
    if pool == "prefork":
        wait_until(lambda: f"exitcode {faults.EXIT_CODE}" in first.output(), 30)
        return first  # its parent starts a new child and gives the message back
    wait_until(lambda: first.popen.poll() is not None, 30)
    assert first.popen.returncode == faults.EXIT_CODE, first.output()
    return first


def _redelivered(stack: Stack, pool: str, killed: Process) -> None:
    """Wait until the message the dead process left unacknowledged has run to its end."""
    worker = killed if pool == "prefork" else stack.worker(pool=pool)
    wait_until(lambda: "succeeded in" in worker.output(), 45)


def test_a_worker_killed_while_it_writes_applies_the_event_once(
    stack_factory, tmp_path, pool: str
) -> None:
    with redis_server() as (url, _stop, _start):
        stack: Stack = stack_factory(CELERY_BROKER_URL=url, BROKER_VISIBILITY_TIMEOUT="3")
        event = store_event(stack.engine, seats_event(seats=6, created=T))
        marker = tmp_path / "killed-after-effect"
        killed = _kill_at(stack, pool, faults.AFTER_EFFECT, marker, [event])
        if pool == "solo":  # (a prefork parent may already have handed the message on)
            # Its writes were never committed: nothing of the event is visible.
            assert stack.state(event) == ("received", 0)
            assert stack.effects(event)[2] == 0
        _redelivered(stack, pool, killed)
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
        # The whole worker dies, so the message waits for its visibility timeout...
        killed = _kill_at(stack, "solo", faults.AFTER_COMMIT, marker, [older])
        assert stack.state(older) == ("applied", 1)
        # ... while another worker applies a newer state.
        stripe_events.process_stripe_event(newer, SqlUnitOfWork(stack.engine), fake_deps())
        _redelivered(stack, "solo", killed)
    assert stack.state(older) == ("applied", 1)
    assert stack.state(newer) == ("applied", 1)
    assert stack.seats() == 7
    assert stack.effects(newer) == (1, 1, 1)


def test_a_worker_killed_between_two_events_of_a_message_applies_each_once(
    stack_factory, tmp_path, pool: str
) -> None:
    with redis_server() as (url, _stop, _start):
        stack: Stack = stack_factory(CELERY_BROKER_URL=url, BROKER_VISIBILITY_TIMEOUT="3")
        events = [store_event(stack.engine, seats_event(seats=n, created=T + n)) for n in (4, 5, 6)]
        marker = tmp_path / "killed-between-events"
        killed = _kill_at(stack, pool, faults.AFTER_COMMIT, marker, events)
        # The first event is committed, the others not started: the message is not acked.
        assert stack.state(events[0]) == ("applied", 1)
        _redelivered(stack, pool, killed)
    assert [stack.state(e) for e in events] == [("applied", 1)] * 3
    assert stack.seats() == 6
    assert stack.effects(events[-1]) == (1, 1, 1)
