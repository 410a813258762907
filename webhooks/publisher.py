"""Task messages for committed events: fewer and larger under load, at once when quiet.

Every message costs the worker about the same whatever it carries (the broker, Celery's
hand-over to a child process, one transaction's fixed reads and writes), so under load the
receiver sends at most one message every `interval` seconds per process, naming every event
committed since the last one. The first message after a quiet spell goes at once: a lone
event waits for nothing. The requests were answered before (each 200 follows its commit, not
its message); if the process dies before a message is sent, the sweeper sends it later.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable

from webhooks.threads import ProcessThread

log = logging.getLogger("seatflow.webhooks")


class Publisher:
    def __init__(
        self, publish: Callable[[list[str]], None], interval: float, max_events: int = 1000
    ) -> None:
        self.publish, self.interval, self.max_events = publish, interval, max_events
        self._queue: queue.SimpleQueue[list[str]] = queue.SimpleQueue()
        self._thread = ProcessThread(self._run, "task-publisher")

    def send(self, event_ids: list[str]) -> None:
        """Have these committed events applied: in the next message, or now if quiet."""
        if not event_ids:
            return
        if self.interval <= 0:
            self.publish(event_ids)
            return
        self._thread.ensure()
        self._queue.put(event_ids)

    def _run(self) -> None:
        last = float("-inf")
        while True:
            event_ids = list(self._queue.get())
            wait = last + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # what is committed meanwhile joins this message
            while len(event_ids) < self.max_events:
                try:
                    event_ids.extend(self._queue.get_nowait())
                except queue.Empty:
                    break
            last = time.monotonic()
            try:
                self.publish(event_ids)
            except Exception as exc:  # never lose the thread: the rows are swept later
                log.warning(
                    "enqueue failed, left for the sweeper",
                    extra={"events": len(event_ids), "error": type(exc).__name__},
                )
