"""A background thread of the receiver's process, started on first use and again after a
fork (a thread does not survive one: gunicorn forks its workers after the app is built)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable


class ProcessThread:
    def __init__(self, target: Callable[[], None], name: str) -> None:
        self.target, self.name = target, name
        self._pid: int | None = None
        self._lock = threading.Lock()

    def ensure(self) -> bool:
        """The thread runs in this process; True if it was started by this call."""
        if self._pid == os.getpid():
            return False
        with self._lock:
            if self._pid == os.getpid():
                return False
            threading.Thread(target=self.target, name=self.name, daemon=True).start()
            self._pid = os.getpid()
            return True

    def running(self) -> bool:
        """Whether the thread was started in this process."""
        return self._pid == os.getpid()

    def done(self) -> None:
        """Called by the thread as it ends: the next `ensure` starts it again."""
        with self._lock:
            self._pid = None
