"""Task messages for committed events: fewer and larger under load, at once when quiet.

Every message costs the worker about the same whatever it carries (the broker, Celery's
hand-over to a child process, one transaction's fixed reads and writes), so under load the
receiver sends at most one message every `interval` seconds per process, naming every event
committed since the last one; under heavy load (messages of many events) up to `stretch`
times the interval apart, so that each message carries more. The first message after a
quiet spell goes at once: a lone event waits for nothing. The requests were answered before
(each 200 follows its commit, not its message). When the process exits (a deploy's SIGTERM
ends a gunicorn worker normally), what is held is sent at once rather than after the
interval; only if the process dies before a message is sent does the sweeper send it,
`SWEEP_AFTER_SECONDS` later.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable

from webhooks.threads import ProcessThread

log = logging.getLogger("seatflow.webhooks")


# Under heavy load a message's events pay for it together: after a message of `full` events
# or more, the next one waits longer, in proportion, up to `stretch` times the interval. With
# the Procfile's 2 processes and a 50 ms interval that starts above about 320 events/s, near
# what the worker applies on a shared 2-core machine (a backlog then waits seconds anyway);
# below, where latency counts (100 events/s; 70 % of the maximum), the interval is kept.
FULL = 8
STRETCH = 4.0


class Publisher:
    def __init__(
        self,
        publish: Callable[[list[str]], None],
        interval: float,
        max_events: int = 1000,
        close_timeout: float = 5.0,
        full: int = FULL,
        stretch: float = STRETCH,
    ) -> None:
        self.publish, self.interval, self.max_events = publish, interval, max_events
        self.close_timeout = close_timeout
        self.full, self.stretch = full, stretch
        self._queue: queue.SimpleQueue[list[str]] = queue.SimpleQueue()
        self._thread = ProcessThread(self._run, "task-publisher")
        self._closing = threading.Event()  # set: no more waiting between messages
        self._sent = threading.Condition()  # guards `_unsent`, notified after each message
        self._unsent = 0  # ids handed to `send` in this process and not yet published

    def send(self, event_ids: list[str]) -> None:
        """Have these committed events applied: in the next message, or now if quiet."""
        if not event_ids:
            return
        if self.interval <= 0:
            self.publish(event_ids)
            return
        with self._sent:
            if self._thread.ensure():  # the first send of this process (or of a fork)
                self._unsent = 0
                atexit.register(_close_at_exit, weakref.ref(self))
            self._unsent += len(event_ids)
            self._queue.put(event_ids)

    def close(self, timeout: float | None = None) -> None:
        """Send what is held now, without waiting for the interval, and wait until it has
        left (at most `timeout` seconds, `close_timeout` by default). Called at exit."""
        if not self._thread.running():
            return
        self._closing.set()
        with self._sent:
            done = self._sent.wait_for(
                lambda: self._unsent <= 0,
                self.close_timeout if timeout is None else timeout,
            )
            if not done:
                log.warning(
                    "task messages not sent before exit, left for the sweeper",
                    extra={"events": self._unsent},
                )

    def _run(self) -> None:
        last, apart = float("-inf"), self.interval
        while True:
            event_ids = list(self._queue.get())
            wait = last + apart - time.monotonic()
            if wait > 0:  # what is committed meanwhile joins this message
                self._closing.wait(wait)
            while len(event_ids) < self.max_events:
                try:
                    event_ids.extend(self._queue.get_nowait())
                except queue.Empty:
                    break
            last = time.monotonic()
            apart = self.interval * min(self.stretch, max(1.0, len(event_ids) / self.full))
            try:
                self.publish(event_ids)
            except Exception as exc:  # never lose the thread: the rows are swept later
                log.warning(
                    "enqueue failed, left for the sweeper",
                    extra={"events": len(event_ids), "error": type(exc).__name__},
                )
            with self._sent:
                self._unsent -= len(event_ids)
                self._sent.notify_all()


def _close_at_exit(publisher: weakref.ref[Publisher]) -> None:
    """At the process's exit (after gunicorn's request threads finished), what is held goes."""
    live = publisher()
    if live is not None:
        live.close()
