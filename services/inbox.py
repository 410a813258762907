"""Find inbox rows that were stored but never applied, so they can be enqueued again.

A row stays `received` when the broker was down at receipt, and `queued` when its message was
lost (a broker restarted without persistence). Re-enqueueing is safe: processing is
idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from domain.ports import UnitOfWork


def sweep(
    uow: UnitOfWork,
    now: datetime,
    older_than: timedelta,
    enqueue: Callable[[list[str]], None],
    limit: int = 500,
    per_message: int = 64,
) -> list[str]:
    """Enqueue pending rows untouched for `older_than`, `per_message` ids a message, in the
    order they arrived; return their event ids."""
    with uow:
        event_ids = uow.inbox.pending_older_than(now - older_than, limit)
        if not event_ids:
            return []
        uow.inbox.requeue(event_ids, now)
        uow.commit()
    # Enqueue after the commit: a message must never reference an uncommitted state.
    for start in range(0, len(event_ids), per_message):
        enqueue(event_ids[start : start + per_message])
    return event_ids
