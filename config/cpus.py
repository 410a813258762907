"""Which CPU a web worker process keeps to (`WEB_PIN_CPUS`, deploy/gunicorn.conf.py).

A gunicorn gthread worker runs Python on one core at a time (the GIL), while its threads
block and wake all the time: each stored delivery waits for its commit, and a lock or the
GIL passes from thread to thread. Left free, the kernel spreads those threads over every
core, and each wake-up of a thread on another core costs an interrupt between cores (dearer
still in a virtual machine). Kept to one core per process, the receiver spent less CPU per stored
event and took more events a second on two cores (bench/RESULTS.md).

By default (`auto`) a process group pins its workers only when it has at least one worker
per CPU it may use: then every CPU is someone's. With fewer workers than CPUs (a large host,
or one worker beside other services) pinning would leave CPUs idle that the kernel could
use, and another group, knowing nothing of this one's choice, could pin onto the same ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def pins(setting: bool | None, workers: int, cpus: int) -> bool:
    """Whether a group of `workers` pins them, on `cpus` CPUs; `setting` None is `auto`."""
    return workers >= cpus if setting is None else setting


def least_used(available: Iterable[int], taken: Iterable[int | None]) -> int:
    """The CPU of `available` that the fewest live workers keep to (the lowest on a tie):
    workers spread one per CPU, and a replacement takes the CPU its predecessor left."""
    counts = Counter(cpu for cpu in taken if cpu is not None)
    return min(sorted(available), key=lambda cpu: counts[cpu])
