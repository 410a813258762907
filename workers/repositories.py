"""Repositories over the SQLAlchemy session: organizations (the aggregate) and the inbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.model import Organization
from workers.orm import inbox, organizations


class SqlOrganizationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, organization: Organization) -> None:
        self.session.add(organization)

    def get(self, organization_id: str, *, lock: bool = False) -> Organization | None:
        query = select(Organization).where(organizations.c.id == organization_id)
        return self._one(query, lock)

    def get_by_customer(self, customer_id: str, *, lock: bool = False) -> Organization | None:
        query = select(Organization).where(organizations.c.stripe_customer_id == customer_id)
        return self._one(query, lock)

    def list(self) -> Sequence[Organization]:
        return self.session.scalars(select(Organization).order_by("id")).all()

    def _one(self, query: Any, lock: bool) -> Organization | None:
        if lock:
            # One change at a time per organization: concurrent events for the same
            # organization wait here; other organizations proceed in parallel.
            query = query.with_for_update()
        return self.session.scalars(query).first()


@dataclass(frozen=True)
class InboxRow:
    id: int
    event_id: str
    type: str
    created: int
    payload: str
    state: str
    attempts: int
    last_error: str | None
    received_at: datetime


DONE_STATES = frozenset({"applied", "ignored", "skipped_stale"})


class SqlInboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, event_id: str, *, lock: bool = False) -> InboxRow | None:
        query = select(*_ROW_COLUMNS).where(inbox.c.event_id == event_id)
        if lock:
            query = query.with_for_update()
        found = self.session.execute(query).first()
        return InboxRow(**found._mapping) if found else None

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
