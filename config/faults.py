"""Test-only fault points: a process dies at a named point of a transaction, once.

The fault tests set one of these variables on a worker, to the path of a file that does not
exist yet. The first process to reach the point creates the file and exits at once
(`os._exit`: no rollback sent, no `finally`, no acknowledgement), as a power cut would; every
later arrival finds the file and goes on, so the redelivered work can finish.

- `SEATFLOW_FAULT_KILL_AFTER_EFFECT`: a transaction's writes have reached the database and
  are not committed yet.
- `SEATFLOW_FAULT_KILL_AFTER_COMMIT`: a transaction has just committed; its task has not
  returned (in a batch, the next event has not started).

Never set them in production. The environment is read once, at import; unset, a point costs
one dictionary lookup.
"""

from __future__ import annotations

import os

AFTER_EFFECT = "SEATFLOW_FAULT_KILL_AFTER_EFFECT"
AFTER_COMMIT = "SEATFLOW_FAULT_KILL_AFTER_COMMIT"
EXIT_CODE = 86  # recognizable in a worker's log, and not a code Celery or Python uses

_ARMED = {point: path for point in (AFTER_EFFECT, AFTER_COMMIT) if (path := os.environ.get(point))}


def reached(point: str) -> None:
    """Die here if `point` is armed and no process has died at it yet."""
    marker = _ARMED.get(point)
    if marker is None:
        return
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, f"{os.getpid()}\n".encode())
    os.close(fd)
    os._exit(EXIT_CODE)
