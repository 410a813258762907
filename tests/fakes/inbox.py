"""The inbox repository in memory: rows as `inbox.table.inbox_row` builds them, in the order
they arrived, with the states and times the SQL repository writes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from domain.ports import InboxRow, Mark
from inbox.events import IncomingEvent
from inbox.states import DONE_STATES, PENDING_STATES, InboxState
from inbox.table import inbox_row

_ROW_FIELDS = tuple(InboxRow.__dataclass_fields__)
_LISTED = ("event_id", "type", "state", "attempts", "last_error", "received_at")


class FakeInbox:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    # -- what the receiver does: store a delivered event ---------------------------------

    def store(
        self, event: dict[str, Any], state: str | None = None, at: datetime | None = None
    ) -> str:
        """Store an event as the receiver would (its row from `inbox_row`, none if the event
        is already stored); its id."""
        if self._find(str(event["id"])) is not None:
            return str(event["id"])
        body = json.dumps(event)
        row = inbox_row(IncomingEvent.parse(body.encode()), body, at or datetime.now(UTC), 0)
        if state is not None:
            row["state"] = state
        self.add([row])
        return str(event["id"])

    def _find(self, event_id: str) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["event_id"] == event_id), None)

    # -- one event -----------------------------------------------------------------------

    def get(self, event_id: str, *, lock: bool = False) -> InboxRow | None:
        found = self._find(event_id)
        return InboxRow(**{f: found[f] for f in _ROW_FIELDS}) if found else None

    def lock_all(
        self,
        event_ids: Sequence[str],
        *,
        lock: bool = True,
        payload: bool = True,
        skip_locked: bool = False,
    ) -> dict[str, InboxRow]:
        wanted = set(event_ids)
        return {
            r["event_id"]: InboxRow(
                **{f: r[f] for f in _ROW_FIELDS} | ({} if payload else {"payload": ""})
            )
            for r in self.rows
            if r["event_id"] in wanted
        }

    def claim(self, limit: int, exclude: Sequence[str] = ()) -> dict[str, InboxRow]:
        skip = set(exclude)
        fresh = [
            r
            for r in self.rows
            if r["state"] == InboxState.RECEIVED and not r["attempts"] and r["event_id"] not in skip
        ]
        return {
            r["event_id"]: InboxRow(**{f: r[f] for f in _ROW_FIELDS})
            for r in sorted(fresh, key=lambda r: r["updated_at"])[: max(0, limit)]
        }

    def full_row(self, event_id: str) -> dict[str, Any] | None:
        found = self._find(event_id)
        return dict(found) if found else None

    def state_of(self, event_id: str) -> str | None:
        found = self._find(event_id)
        return str(found["state"]) if found else None

    def newest_event_id(self) -> str | None:
        return str(self.rows[-1]["event_id"]) if self.rows else None

    def mark(
        self,
        event_id: str,
        state: str,
        now: datetime,
        error: str | None = None,
        attempt: bool = False,
    ) -> None:
        found = self._find(event_id)
        if found is None:
            return
        found.update(state=state, updated_at=now, last_error=error)
        if state in DONE_STATES:
            found["applied_at"] = now
        if attempt:
            found["attempts"] += 1

    def mark_all(self, marks: Sequence[Mark], now: datetime) -> None:
        for m in marks:
            self.mark(m.event_id, m.state, now, m.error, attempt=True)

    # -- receipt and recovery ------------------------------------------------------------

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        for row in rows:
            if self._find(row["event_id"]) is not None:
                raise AssertionError(f"event {row['event_id']} stored twice")  # unique index
            self.rows.append({"id": len(self.rows) + 1, "applied_at": None} | dict(row))

    def known_ids(self, event_ids: Iterable[str]) -> set[str]:
        return {r["event_id"] for r in self.rows} & set(event_ids)

    def newest_created(self) -> int | None:
        return max((int(r["created"]) for r in self.rows), default=None)

    # -- the sweeper -------------------------------------------------------------------------

    def pending_older_than(self, cutoff: datetime, limit: int) -> list[str]:
        return [
            r["event_id"]
            for r in self.rows
            if r["state"] in PENDING_STATES and r["updated_at"] < cutoff
        ][:limit]

    def requeue(self, event_ids: Sequence[str], now: datetime) -> None:
        self._set(event_ids, state=InboxState.QUEUED.value, updated_at=now)

    # -- operators -----------------------------------------------------------------------

    def listing(self, state: str | None, limit: int) -> list[dict[str, Any]]:
        newest_first = [r for r in reversed(self.rows) if state in (None, r["state"])]
        return [{c: r[c] for c in _LISTED} for r in newest_first[:limit]]

    def dead_ids(
        self,
        event_ids: Sequence[str] = (),
        types: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[str]:
        return [
            r["event_id"]
            for r in self.rows
            if r["state"] == InboxState.DEAD
            and (not event_ids or r["event_id"] in event_ids)
            and (not types or r["type"] in types)
            and (since is None or r["received_at"] >= since)
            and (until is None or r["received_at"] < until)
        ]

    def reset(self, event_ids: Sequence[str], now: datetime) -> None:
        self._set(event_ids, state=InboxState.RECEIVED.value, updated_at=now, last_error=None)

    def purge_dead(self, event_ids: Sequence[str]) -> int:
        gone = [
            r for r in self.rows if r["state"] == InboxState.DEAD and r["event_id"] in event_ids
        ]
        self.rows = [r for r in self.rows if r not in gone]
        return len(gone)

    def _done_before(self, cutoff: datetime) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["state"] in DONE_STATES and r["updated_at"] < cutoff]

    def count_done_before(self, cutoff: datetime) -> int:
        return len(self._done_before(cutoff))

    def delete_done_before(self, cutoff: datetime, limit: int) -> int:
        gone = self._done_before(cutoff)[:limit]
        self.rows = [r for r in self.rows if r not in gone]
        return len(gone)

    def _set(self, event_ids: Sequence[str], **values: Any) -> None:
        for row in self.rows:
            if row["event_id"] in event_ids:
                row.update(values)

    def counts_by_state(self) -> dict[str, int]:
        return {s.value: sum(1 for r in self.rows if r["state"] == s) for s in InboxState}

    def oldest_received(self, states: Iterable[str]) -> datetime | None:
        wanted = set(states)
        return min((r["received_at"] for r in self.rows if r["state"] in wanted), default=None)
