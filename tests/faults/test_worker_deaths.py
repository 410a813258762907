"""Workers die mid-task; a task outlives the visibility timeout: each event applies once."""

from __future__ import annotations

import os
import signal

import pytest

from tests.faults.conftest import seats_event
from tests.support import children_of, wait_until

pytestmark = pytest.mark.slow


def test_kill_9_of_a_worker_child_mid_task_applies_the_event_once(stack_factory) -> None:
    stack = stack_factory()
    stack.web(ready=False)
    worker = stack.worker(concurrency=1)
    lock = stack.lock_organization()
    event = seats_event(seats=6, created=1_700_000_000)
    assert stack.post(event) == 200
    wait_until(stack.blocked_on_lock, 20)  # the task is inside its transaction, waiting
    [child] = children_of(worker.pid)
    os.kill(child, signal.SIGKILL)
    wait_until(lambda: children_of(worker.pid) and children_of(worker.pid) != [child], 20)
    lock.rollback()
    lock.close()
    wait_until(lambda: stack.state(event["id"]) == ("applied", 1), 30)
    assert stack.seats() == 6
    assert stack.effects(event["id"]) == (1, 1, 1)
    assert "WorkerLostError" in worker.output() or "SIGKILL" in worker.output()


def test_kill_9_of_the_whole_worker_then_a_new_one_applies_once(stack_factory) -> None:
    # No beat: the broker alone must give the message back (acknowledged late, never early).
    stack = stack_factory(BROKER_VISIBILITY_TIMEOUT="5")
    stack.web(ready=False)
    worker = stack.worker(concurrency=1)
    lock = stack.lock_organization()
    event = seats_event(seats=8, created=1_700_000_100)
    assert stack.post(event) == 200
    wait_until(stack.blocked_on_lock, 20)
    worker.stop(signal.SIGKILL)  # the main process and its children, no warm shutdown
    lock.rollback()
    lock.close()
    assert stack.state(event["id"]) == ("received", 0)
    stack.worker(concurrency=1)
    wait_until(lambda: stack.state(event["id"]) == ("applied", 1), 45)
    assert stack.seats() == 8
    assert stack.effects(event["id"]) == (1, 1, 1)


def test_a_task_slower_than_the_visibility_timeout_has_no_double_effect(stack_factory) -> None:
    stack = stack_factory(BROKER_VISIBILITY_TIMEOUT="2")
    stack.web(ready=False)
    first = stack.worker(concurrency=1)
    lock = stack.lock_organization()
    event = seats_event(seats=11, created=1_700_000_200)
    assert stack.post(event) == 200
    wait_until(stack.blocked_on_lock, 20)
    # Past the visibility timeout, a second worker gets the same message while the first
    # still runs it.
    second = stack.worker(concurrency=1)
    wait_until(lambda: "process_stripe_event" in second.output().split("ready.")[-1], 30)
    lock.rollback()
    lock.close()
    wait_until(lambda: stack.state(event["id"]) == ("applied", 1), 30)
    wait_until(lambda: "succeeded" in second.output().split("ready.")[-1], 30)
    assert stack.seats() == 11
    assert stack.effects(event["id"]) == (1, 1, 1)
    assert "succeeded" in first.output()
