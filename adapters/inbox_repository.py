"""The inbox repository: every query on the table of stored Stripe events.

Rows come in only as built by `inbox.table.inbox_row` (the receiver's writer inserts the
same rows on its own fast path).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from adapters.sql import among, not_among
from domain.ports import InboxRow, Mark
from inbox.states import DONE_STATES, PENDING_STATES, InboxState
from inbox.table import inbox

_ROW_COLUMNS = (
    inbox.c.id,
    inbox.c.event_id,
    inbox.c.type,
    inbox.c.created,
    inbox.c.payload,
    inbox.c.state,
    inbox.c.attempts,
    inbox.c.last_error,
    inbox.c.received_at,
)
# What a caller that has the payload already needs of a row (the same fields, in order).
_HEAD_COLUMNS = tuple(c for c in _ROW_COLUMNS if c.name != "payload")


_ROW: Any = InboxRow  # built from a result row's values in column order, not by name


def _row(values: Any, payload: bool) -> InboxRow:
    row: InboxRow = _ROW(*values) if payload else _ROW(*values[:4], "", *values[4:])
    return row


_LISTED_COLUMNS = (
    inbox.c.event_id,
    inbox.c.type,
    inbox.c.state,
    inbox.c.attempts,
    inbox.c.last_error,
    inbox.c.received_at,
)
_DONE = inbox.c.state.in_([s.value for s in DONE_STATES])
_DEAD = inbox.c.state == InboxState.DEAD.value


class SqlInboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- one event -----------------------------------------------------------------------

    def get(self, event_id: str, *, lock: bool = False) -> InboxRow | None:
        query = select(*_ROW_COLUMNS).where(inbox.c.event_id == event_id)
        if lock:
            query = query.with_for_update()
        found = self.session.execute(query).first()
        return InboxRow(**found._mapping) if found else None

    def lock_all(
        self,
        event_ids: Sequence[str],
        *,
        lock: bool = True,
        payload: bool = True,
        skip_locked: bool = False,
    ) -> dict[str, InboxRow]:
        """The rows of these events, locked in one statement (in the order they arrived);
        with `lock` False, read without locking them. `payload` False leaves the payload
        unread (empty): a caller that admitted the events already has what it said.
        `skip_locked`: rows another transaction holds are left out, not waited for."""
        if not event_ids:
            return {}
        columns = _ROW_COLUMNS if payload else _HEAD_COLUMNS
        query = (
            select(*columns)
            .where(among(self.session, inbox.c.event_id, event_ids))
            .order_by(inbox.c.id)
        )
        if lock:
            query = query.with_for_update(skip_locked=skip_locked)
        return {row[1]: _row(row, payload) for row in self.session.execute(query)}

    def claim(self, limit: int, exclude: Sequence[str] = ()) -> dict[str, InboxRow]:
        """Lock up to `limit` stored events never tried yet (state `received`, no attempt),
        the oldest first, other than `exclude`; rows another transaction holds are skipped,
        not waited for. In the order they arrived."""
        if limit <= 0:
            return {}
        query = (
            select(*_ROW_COLUMNS)
            .where(inbox.c.state == InboxState.RECEIVED.value, inbox.c.attempts == 0)
            .order_by(inbox.c.updated_at)  # the (state, updated_at) index: no sort
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if exclude:
            query = query.where(not_among(self.session, inbox.c.event_id, exclude))
        rows = [_row(row, True) for row in self.session.execute(query)]
        return {row.event_id: row for row in sorted(rows, key=lambda row: row.id)}

    def full_row(self, event_id: str) -> dict[str, Any] | None:
        """Every column of the event's row, as stored."""
        found = self.session.execute(select(inbox).where(inbox.c.event_id == event_id)).first()
        return dict(found._mapping) if found else None

    def state_of(self, event_id: str) -> str | None:
        return self.session.scalar(select(inbox.c.state).where(inbox.c.event_id == event_id))

    def newest_event_id(self) -> str | None:
        """The event stored last."""
        query = select(inbox.c.event_id).order_by(inbox.c.id.desc()).limit(1)
        return self.session.scalar(query)

    def mark(
        self,
        event_id: str,
        state: str,
        now: datetime,
        error: str | None = None,
        attempt: bool = False,
    ) -> None:
        values: dict[str, Any] = {"state": state, "updated_at": now, "last_error": error}
        if state in DONE_STATES:
            values["applied_at"] = now
        if attempt:
            values["attempts"] = inbox.c.attempts + 1
        self.session.execute(update(inbox).where(inbox.c.event_id == event_id).values(**values))

    def mark_all(self, marks: Sequence[Mark], now: datetime) -> None:
        """`mark` for many events with one attempt each: one statement for all the events
        that end alike (usually all of them), not one per event."""
        alike: dict[tuple[str, str | None], list[str]] = {}
        for m in marks:
            alike.setdefault((m.state, m.error), []).append(m.event_id)
        for (state, error), event_ids in alike.items():
            values: dict[str, Any] = {
                "state": state,
                "last_error": error,
                "updated_at": now,
                "attempts": inbox.c.attempts + 1,
            }
            if state in DONE_STATES:
                values["applied_at"] = now
            self.session.execute(
                update(inbox)
                .where(among(self.session, inbox.c.event_id, event_ids))
                .values(**values)
            )

    # -- receipt and recovery ------------------------------------------------------------

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows built by `inbox.table.inbox_row`."""
        if rows:
            self.session.execute(insert(inbox), list(rows))

    def known_ids(self, event_ids: Iterable[str]) -> set[str]:
        """Those of `event_ids` already in the inbox."""
        query = select(inbox.c.event_id).where(inbox.c.event_id.in_(list(event_ids)))
        return set(self.session.scalars(query))

    def newest_created(self) -> int | None:
        """The Stripe `created` time of the newest event stored."""
        newest = self.session.scalar(select(func.max(inbox.c.created)))
        return int(newest) if newest is not None else None

    # -- the sweeper -------------------------------------------------------------------------

    def pending_older_than(self, cutoff: datetime, limit: int) -> list[str]:
        """Events still to apply and untouched since `cutoff`, in the order they arrived."""
        query = (
            select(inbox.c.event_id)
            .where(inbox.c.state.in_([s.value for s in PENDING_STATES]))
            .where(inbox.c.updated_at < cutoff)
            .order_by(inbox.c.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def requeue(self, event_ids: Sequence[str], now: datetime) -> None:
        """The events were handed to the broker again."""
        self._set(event_ids, state=InboxState.QUEUED.value, updated_at=now)

    # -- operators -----------------------------------------------------------------------

    def listing(self, state: str | None, limit: int) -> list[dict[str, Any]]:
        """The newest events first, optionally in one state."""
        query = select(*_LISTED_COLUMNS).order_by(inbox.c.id.desc()).limit(limit)
        if state:
            query = query.where(inbox.c.state == state)
        return [dict(row._mapping) for row in self.session.execute(query)]

    def dead_ids(
        self,
        event_ids: Sequence[str] = (),
        types: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[str]:
        """Dead events, narrowed by id, type and receipt time (`since` <= t < `until`)."""
        query = select(inbox.c.event_id).where(_DEAD).order_by(inbox.c.id)
        if event_ids:
            query = query.where(inbox.c.event_id.in_(list(event_ids)))
        if types:
            query = query.where(inbox.c.type.in_(list(types)))
        if since:
            query = query.where(inbox.c.received_at >= since)
        if until:
            query = query.where(inbox.c.received_at < until)
        return list(self.session.scalars(query))

    def reset(self, event_ids: Sequence[str], now: datetime) -> None:
        """The events are to be applied again, their last error forgotten."""
        self._set(event_ids, state=InboxState.RECEIVED.value, updated_at=now, last_error=None)

    def purge_dead(self, event_ids: Sequence[str]) -> int:
        """Delete those of `event_ids` that are dead; how many were."""
        statement = delete(inbox).where(_DEAD, inbox.c.event_id.in_(list(event_ids)))
        return int(self.session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def count_done_before(self, cutoff: datetime) -> int:
        query = select(func.count()).where(_DONE, inbox.c.updated_at < cutoff)
        return int(self.session.scalar(query) or 0)

    def delete_done_before(self, cutoff: datetime, limit: int) -> int:
        """Delete up to `limit` finished events last touched before `cutoff`; how many."""
        ids = select(inbox.c.id).where(_DONE, inbox.c.updated_at < cutoff).limit(limit)
        statement = delete(inbox).where(inbox.c.id.in_(ids))
        return int(self.session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def _set(self, event_ids: Sequence[str], **values: Any) -> None:
        if event_ids:
            where = inbox.c.event_id.in_(list(event_ids))
            self.session.execute(update(inbox).where(where).values(**values))

    # -- the operator pages ----------------------------------------------------------------

    def counts_by_state(self) -> dict[str, int]:
        """Rows in each state, every state present (0 when none)."""
        query = select(inbox.c.state, func.count()).group_by(inbox.c.state)
        found = {str(state): int(n) for state, n in self.session.execute(query)}
        return {state.value: found.get(state.value, 0) for state in InboxState}

    def oldest_received(self, states: Iterable[str]) -> datetime | None:
        """When the oldest event in one of `states` was received."""
        query = select(func.min(inbox.c.received_at)).where(inbox.c.state.in_(list(states)))
        found: datetime | None = self.session.scalar(query)
        return found
