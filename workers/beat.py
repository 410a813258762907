"""One beat at a time: a second `celery beat` waits as a hot standby.

The leader holds a PostgreSQL session advisory lock on a dedicated connection (released by
the server if the process dies), or, on the embedded SQLite default, an exclusive lock on a
file. A standby tries again every few seconds and takes over when the leader is gone.

Every beat serves the database's state as metrics on `BEAT_METRICS_PORT`, but only the
leader's scrapes carry it: one process exports it (see `adapters.gauges`).
"""

from __future__ import annotations

import fcntl
import logging
from typing import Any

from celery.beat import PersistentScheduler

import bootstrap
from adapters.advisory_lock import AdvisoryLock

log = logging.getLogger("seatflow.beat")
LOCK_KEY = 7_302_401  # arbitrary, fixed: "seatflow beat"
STANDBY_POLL = 5.0


class BeatLock:
    def __init__(self) -> None:
        self._advisory: AdvisoryLock | None = None
        self._file: Any = None

    def held(self) -> bool:
        settings = bootstrap.runtime().settings
        if settings.database_url.startswith("sqlite"):
            return self._file_lock(settings.data_dir / "beat.lock")
        return self._advisory_lock()

    def holding(self) -> bool:
        """Whether this process held the lock at its last check (never queries anything)."""
        advisory = self._advisory is not None and self._advisory.holding
        return advisory or self._file is not None

    def _advisory_lock(self) -> bool:
        if self._advisory is None:
            self._advisory = AdvisoryLock(bootstrap.runtime().engine, LOCK_KEY)
        try:
            was_leader = self._advisory.holding
            if self._advisory.held():
                if not was_leader:
                    log.info("beat lock acquired: this beat schedules")
                return True
        except Exception as exc:  # the database went away: lost leadership
            log.warning("beat lock lost", extra={"error": type(exc).__name__})
            self.release()
        return False

    def _file_lock(self, path: Any) -> bool:
        if self._file is not None:
            return True
        handle = open(path, "a")  # noqa: SIM115  (held open for the life of the process)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        log.info("beat lock acquired: this beat schedules")
        return True

    def release(self) -> None:
        if self._advisory is not None:
            self._advisory.release()
        if self._file is not None:
            self._file.close()
            self._file = None


class SingletonScheduler(PersistentScheduler):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from config.logging import warn_at_start

        warn_at_start(bootstrap.runtime().settings)
        self._lock = BeatLock()
        self._announced = False
        super().__init__(*args, **kwargs)
        if not kwargs.get("lazy"):  # a lazy one only prints `celery beat`'s banner
            _serve_database_gauges(self._lock)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self._lock.held():
            if not self._announced:
                log.info("another beat holds the lock: standing by")
                self._announced = True
            return STANDBY_POLL
        self._announced = False
        return float(super().tick(*args, **kwargs))

    def close(self) -> None:
        self._lock.release()
        super().close()


def _serve_database_gauges(lock: BeatLock) -> None:
    from adapters.gauges import serve_database_gauges

    settings = bootstrap.runtime().settings
    port, host = settings.beat_metrics_port, settings.worker_metrics_host
    if port and not serve_database_gauges(port, bootstrap.runtime().engine, lock.holding, host):
        log.warning("metrics port busy", extra={"port": port})
