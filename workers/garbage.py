"""How often the worker's processes collect garbage.

A message's events are applied in one transaction holding a few hundred aggregates, their
subscriptions and licenses at once: at Python's default threshold (700 allocations) the
collector runs about once an event and walks them all each time, about a tenth of the
worker's CPU on full-size events. It runs every 10,000 allocations instead, and what was
loaded at start (modules, mappings, the app) is frozen out of every collection; memory stays
flat (`python -m bench.pipeline memory`).
"""

from __future__ import annotations

import gc
from typing import Any

THRESHOLD = (10_000, 10, 10)


def collect_less_often(**_: Any) -> None:
    """Freeze what is loaded now and collect every `THRESHOLD[0]` allocations."""
    gc.freeze()
    gc.set_threshold(*THRESHOLD)
