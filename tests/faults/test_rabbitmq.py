"""RabbitMQ as the broker (`CELERY_BROKER_URL=amqp://…`): the pipeline end to end, and a
worker killed mid-task, each event applied exactly once."""

from __future__ import annotations

import signal
import socket

import pytest

from tests.faults.conftest import seats_event
from tests.support import launch_default_named_worker, wait_until

pytestmark = pytest.mark.slow
AMQP = "amqp://guest:guest@127.0.0.1:5672//"
LOCKED = "RESOURCE_LOCKED"


@pytest.fixture(autouse=True)
def rabbitmq() -> None:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError as exc:
        pytest.fail(f"RabbitMQ is required at 127.0.0.1:5672 (run scripts/ensure-services): {exc}")


def test_a_delivery_is_applied_once_through_rabbitmq(stack_factory) -> None:
    stack = stack_factory(CELERY_BROKER_URL=AMQP)
    stack.web(ready=False)
    stack.worker(concurrency=2)
    event = seats_event(seats=4, created=1_700_000_000)
    assert stack.post(event) == 200
    assert stack.post(event) == 200  # Stripe's retry of the same delivery
    wait_until(lambda: stack.state(event["id"]) == ("applied", 1), 30)
    assert stack.seats() == 4
    assert stack.effects(event["id"]) == (1, 1, 1)


def test_kill_9_of_the_whole_worker_on_rabbitmq_then_a_new_one_applies_once(
    stack_factory,
) -> None:
    stack = stack_factory(CELERY_BROKER_URL=AMQP)
    stack.web(ready=False)
    worker = stack.worker(concurrency=1)
    lock = stack.lock_organization()
    event = seats_event(seats=9, created=1_700_000_100)
    assert stack.post(event) == 200
    wait_until(stack.blocked_on_lock, 20)  # the task holds the message, unacknowledged
    worker.stop(signal.SIGKILL)
    lock.rollback()
    lock.close()
    assert stack.state(event["id"]) == ("received", 0)
    # No sweeper and no visibility timeout: RabbitMQ gives the unacknowledged message back
    # when the dead worker's connection closes, and the new worker applies it.
    stack.worker(concurrency=1)
    wait_until(lambda: stack.state(event["id"]) == ("applied", 1), 45)
    assert stack.seats() == 9
    assert stack.effects(event["id"]) == (1, 1, 1)


def test_a_test_worker_runs_beside_a_worker_of_the_default_name_on_the_same_rabbitmq(
    stack_factory,
) -> None:
    """Another worker on the broker with Celery's default node name (`celery@<host>`, its
    mailbox queue exclusive), on a queue of its own: the test's worker still starts, holds
    its own mailbox and applies the event."""
    stack = stack_factory(CELERY_BROKER_URL=AMQP)
    other = launch_default_named_worker(
        {**stack.env, "SEATFLOW_QUEUE": f"{stack.env.get('SEATFLOW_QUEUE', 'seatflow')}-other"}
    )
    try:
        # Ready, or refused because a worker of that name already holds the mailbox (another
        # run of this test at the same time): either way one is on the broker.
        wait_until(lambda: "ready." in other.output() or LOCKED in other.output(), 60)
        stack.web(ready=False)
        worker = stack.worker(concurrency=1)
        event = seats_event(seats=6, created=1_700_000_200)
        assert stack.post(event) == 200
        wait_until(lambda: stack.state(event["id"]) == ("applied", 1), 30)
        assert LOCKED not in worker.output()
        assert worker.popen.poll() is None
    finally:
        other.stop()
