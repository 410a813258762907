"""Find inbox rows that were stored but never applied, so they can be enqueued again.

A row stays `received` when the broker was down at receipt, and `queued` when its message was
lost (a broker restarted without persistence). Re-enqueueing is safe: processing is
idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update

from adapters.orm import inbox
from adapters.unit_of_work import SqlUnitOfWork

PENDING_STATES = ("received", "queued")


def sweep(
    uow: SqlUnitOfWork,
    now: datetime,
    older_than: timedelta,
    enqueue: Callable[[list[str]], None],
    limit: int = 500,
    per_message: int = 64,
) -> list[str]:
    """Enqueue pending rows untouched for `older_than`, `per_message` ids a message, in the
    order they arrived; return their event ids."""
    with uow:
        query = (
            select(inbox.c.event_id)
            .where(inbox.c.state.in_(PENDING_STATES), inbox.c.updated_at < now - older_than)
            .order_by(inbox.c.id)
            .limit(limit)
        )
        event_ids = list(uow.session.scalars(query))
        if not event_ids:
            return []
        uow.session.execute(
            update(inbox)
            .where(inbox.c.event_id.in_(event_ids))
            .values(state="queued", updated_at=now)
        )
        uow.commit()
    # Enqueue after the commit: a message must never reference an uncommitted state.
    for start in range(0, len(event_ids), per_message):
        enqueue(event_ids[start : start + per_message])
    return event_ids
