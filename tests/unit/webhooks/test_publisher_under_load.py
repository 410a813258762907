"""Under heavy load the receiver sends fewer, larger task messages: after a message of many
events the next waits longer (up to `stretch` times the interval), so the worker's cost of
a message is shared by more events; a message of few events (moderate load, where latency
counts) keeps the interval, and a quiet spell brings it back at once."""

from __future__ import annotations

import time

from tests.support import wait_until
from webhooks.publisher import Publisher


def _timed() -> tuple[list[float], list[list[str]], Publisher]:
    times: list[float] = []
    sent: list[list[str]] = []

    def publish(ids: list[str]) -> None:
        times.append(time.monotonic())
        sent.append(ids)

    return times, sent, Publisher(publish, interval=0.1, full=4, stretch=4)


def _send_and_wait_for(publisher: Publisher, sent: list[list[str]], ids: list[str]) -> None:
    count = len(sent)
    publisher.send(ids)
    wait_until(lambda: len(sent) > count, 10, interval=0.005)


def test_after_a_message_of_many_events_the_next_waits_longer() -> None:
    times, sent, publisher = _timed()
    _send_and_wait_for(publisher, sent, [f"evt_{i}" for i in range(16)])  # 4 x full
    _send_and_wait_for(publisher, sent, ["evt_next"])
    assert times[1] - times[0] >= 0.4  # 4 x the interval


def test_the_wait_grows_with_the_message_up_to_its_stretch() -> None:
    times, sent, publisher = _timed()
    _send_and_wait_for(publisher, sent, [f"evt_{i}" for i in range(8)])  # 2 x full
    _send_and_wait_for(publisher, sent, ["evt_a"])
    assert 0.2 <= times[1] - times[0] < 0.35
    _send_and_wait_for(publisher, sent, [f"evt_b{i}" for i in range(100)])  # far beyond
    _send_and_wait_for(publisher, sent, ["evt_c"])
    assert 0.4 <= times[3] - times[2] < 0.55


def test_a_message_of_few_events_keeps_the_interval() -> None:
    times, sent, publisher = _timed()
    _send_and_wait_for(publisher, sent, ["evt_1", "evt_2"])  # below full
    _send_and_wait_for(publisher, sent, ["evt_3"])
    assert 0.1 <= times[1] - times[0] < 0.2


def test_after_a_quiet_spell_a_lone_event_goes_at_once() -> None:
    times, sent, publisher = _timed()
    _send_and_wait_for(publisher, sent, [f"evt_{i}" for i in range(16)])
    time.sleep(0.5)  # longer than the stretched wait
    started = time.monotonic()
    _send_and_wait_for(publisher, sent, ["evt_alone"])
    assert times[1] - started < 0.05
