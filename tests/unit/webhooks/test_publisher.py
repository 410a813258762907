"""Task messages: a lone event goes at once; under load one message carries what was
committed meanwhile; a failed send never stops the next."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from threading import Event

from tests.support import wait_until
from webhooks.publisher import Publisher


def test_a_lone_event_is_sent_at_once_whatever_the_interval() -> None:
    sent: list[list[str]] = []
    Publisher(sent.append, interval=60).send(["evt_1"])
    wait_until(lambda: sent, 10, interval=0.01)
    assert sent == [["evt_1"]]


def _slow_first_send() -> tuple[list[list[str]], Callable[[list[str]], None], Event, Event]:
    """What was sent, a send that holds the first message until `release` is set (the broker
    is slow with it), and the events: `sending` (the first send began) and `release`."""
    sent: list[list[str]] = []
    sending, release = threading.Event(), threading.Event()

    def publish(ids: list[str]) -> None:
        if not sent:
            sending.set()
            release.wait(10)
        sent.append(ids)

    return sent, publish, sending, release


def test_what_is_committed_while_a_message_goes_out_joins_the_next_one() -> None:
    sent, publish, sending, release = _slow_first_send()
    publisher = Publisher(publish, interval=0.001)
    publisher.send(["evt_1"])
    assert sending.wait(10)
    for event_id in ("evt_2", "evt_3", "evt_4"):
        publisher.send([event_id])
    release.set()
    wait_until(lambda: len(sent) >= 2, 10, interval=0.01)
    assert sent == [["evt_1"], ["evt_2", "evt_3", "evt_4"]]


def test_under_load_messages_are_at_least_the_interval_apart() -> None:
    times: list[float] = []
    sent: list[list[str]] = []

    def publish(ids: list[str]) -> None:
        times.append(time.monotonic())
        sent.append(ids)

    publisher = Publisher(publish, interval=0.3)
    publisher.send(["evt_1"])
    wait_until(lambda: sent, 10, interval=0.01)
    publisher.send(["evt_2"])
    publisher.send(["evt_3"])
    wait_until(lambda: len(sent) == 2, 10, interval=0.01)
    assert sent == [["evt_1"], ["evt_2", "evt_3"]]
    assert times[1] - times[0] >= 0.3


def test_a_message_carries_at_most_max_events() -> None:
    sent, publish, sending, release = _slow_first_send()
    publisher = Publisher(publish, interval=0.001, max_events=3)
    publisher.send(["evt_0"])
    assert sending.wait(10)
    for i in range(1, 8):
        publisher.send([f"evt_{i}"])
    release.set()
    wait_until(lambda: sum(map(len, sent)) == 8, 10, interval=0.01)
    assert [len(ids) for ids in sent] == [1, 3, 3, 1]


def test_a_failed_send_does_not_stop_the_next_one() -> None:
    sent: list[list[str]] = []

    def publish(ids: list[str]) -> None:
        if ids == ["evt_1"]:
            raise ConnectionError("broker down")
        sent.append(ids)

    publisher = Publisher(publish, interval=0.001)
    publisher.send(["evt_1"])
    publisher.send(["evt_2"])
    wait_until(lambda: sent, 10, interval=0.01)
    assert sent[-1][-1] == "evt_2"


def test_no_interval_sends_each_commit_in_the_caller() -> None:
    sent: list[list[str]] = []
    publisher = Publisher(sent.append, interval=0)
    publisher.send(["evt_1", "evt_2"])
    publisher.send([])
    assert sent == [["evt_1", "evt_2"]]


def test_closing_sends_what_is_held_at_once_instead_of_after_the_interval() -> None:
    sent: list[list[str]] = []
    publisher = Publisher(sent.append, interval=60)
    publisher.send(["evt_1"])
    wait_until(lambda: sent, 10, interval=0.01)
    publisher.send(["evt_2"])
    publisher.send(["evt_3"])
    started = time.monotonic()
    publisher.close(timeout=10)
    assert sent == [["evt_1"], ["evt_2", "evt_3"]]
    assert time.monotonic() - started < 5


def test_closing_waits_for_a_message_already_on_its_way() -> None:
    sent, publish, sending, release = _slow_first_send()
    publisher = Publisher(publish, interval=60)
    publisher.send(["evt_1"])
    assert sending.wait(10)
    publisher.send(["evt_2"])
    threading.Timer(0.2, release.set).start()
    publisher.close(timeout=10)
    assert sent == [["evt_1"], ["evt_2"]]


def test_closing_gives_up_after_its_timeout_when_the_broker_hangs() -> None:
    sent, publish, sending, release = _slow_first_send()
    publisher = Publisher(publish, interval=60)
    publisher.send(["evt_1"])
    assert sending.wait(10)
    started = time.monotonic()
    publisher.close(timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 5
    assert sent == []  # still on its way: the sweeper will send it if the process ends now
    release.set()


def test_closing_a_publisher_that_never_sent_returns_at_once() -> None:
    sent: list[list[str]] = []
    started = time.monotonic()
    Publisher(sent.append, interval=60).close(timeout=10)
    assert time.monotonic() - started < 1
    assert sent == []
