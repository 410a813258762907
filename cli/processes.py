"""The child processes of `seatflow dev`: each in its own process group, stopped as a whole.

A terminal's Ctrl-C reaches only `seatflow dev` (the children are in their own sessions), which
then stops every group itself: SIGTERM, a short grace, then SIGKILL to the whole group, so no
gunicorn worker or Celery pool process outlives its master and keeps a port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
# Within the 5 s a person waits for Ctrl-C: the grace for a clean exit, then SIGKILL.
GRACE_SECONDS = 2.0
KILL_WAIT_SECONDS = 1.5


class Stopped(Exception):
    """Raised in the main thread by the first SIGINT or SIGTERM."""


def _on_signal(signum: int, frame: Any) -> None:
    ignore_stop_signals()
    raise Stopped(signal.Signals(signum).name)


def ignore_stop_signals() -> None:
    """While stopping, a second Ctrl-C must not interrupt the clean-up."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def raise_on_stop_signals() -> None:
    for sig in STOP_SIGNALS:
        signal.signal(sig, _on_signal)


def _child_setup() -> None:
    """In the child before exec: accept signals again, and get SIGTERM (Linux) when
    `seatflow dev` goes away, however it goes."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """No stop signal lands between a child's start and its being tracked."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def start(
    commands: Mapping[str, list[str]],
    envs: Mapping[str, dict[str, Any]],
    fds: Mapping[str, tuple[int, ...]] | None = None,
) -> dict[str, subprocess.Popen[bytes]]:
    """Start each command with its environment and the file descriptors it inherits."""
    children: dict[str, subprocess.Popen[bytes]] = {}
    with _signals_blocked():
        for name, cmd in commands.items():
            children[name] = subprocess.Popen(
                cmd,
                env=envs[name],
                pass_fds=(fds or {}).get(name, ()),
                start_new_session=True,
                preexec_fn=_child_setup,  # no threads run in the parent yet
            )
    return children


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    """A member of the group that is not a zombie (a zombie holds no port)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def _wait_all(children: Mapping[str, subprocess.Popen[bytes]], deadline: float) -> None:
    for child in children.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.0, deadline - time.monotonic()))


def stop(
    children: Mapping[str, subprocess.Popen[bytes]], signals: Mapping[str, int] | None = None
) -> None:
    """Stop every child with its whole process group (first with its entry in `signals`, or
    SIGTERM), within GRACE + KILL_WAIT seconds."""
    ignore_stop_signals()
    for name, child in children.items():
        _signal_group(child.pid, (signals or {}).get(name, signal.SIGTERM))
    _wait_all(children, time.monotonic() + GRACE_SECONDS)
    # Always, even when the leader exited: a straggler (a gunicorn worker) may remain.
    for child in children.values():
        _signal_group(child.pid, signal.SIGKILL)
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    _wait_all(children, deadline)
    for child in children.values():
        while _group_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
