"""The worker's processes collect garbage less often than Python's default, and never walk
what was loaded at start: set when the worker starts, before its pool forks."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from celery.signals import worker_init


@pytest.fixture
def restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_the_worker_collects_every_ten_thousand_allocations_with_its_start_frozen(
    restored: None,
) -> None:
    from workers import garbage, tasks  # noqa: F401 (tasks connects the worker's signals)

    receivers = [r() if isinstance(r, weakref.ref) else r for _, r in worker_init.receivers]
    assert garbage.collect_less_often in receivers  # sent before the pool forks
    assert gc.get_threshold() == (700, 10, 10)  # Python's default, until the worker starts

    garbage.collect_less_often()

    assert gc.get_threshold() == garbage.THRESHOLD == (10_000, 10, 10)
    assert gc.get_freeze_count() > 10_000  # modules, mappings, the app
