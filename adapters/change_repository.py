"""The scheduled changes repository: changes at renewal and the queries that follow them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from adapters.orm import scheduled_changes as table
from domain.renewal import PENDING, ChangeState, ScheduledChange

C = ChangeState


class SqlScheduledChangeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, change: ScheduledChange) -> None:
        self.session.add(change)

    def get(self, change_id: str) -> ScheduledChange | None:
        return self.session.get(ScheduledChange, change_id)

    def refresh(self, change: ScheduledChange) -> None:
        """Read the change again (after its organization's lock was granted)."""
        self.session.refresh(change)

    def for_organization(self, organization_id: str, change_id: str) -> ScheduledChange | None:
        found = self.get(change_id)
        return found if found and found.organization_id == organization_id else None

    def of_organization(self, organization_id: str) -> list[ScheduledChange]:
        """Every change of the organization, newest first."""
        query = (
            select(ScheduledChange)
            .where(table.c.organization_id == organization_id)
            .order_by(table.c.created_at.desc(), table.c.id.desc())
        )
        return list(self.session.scalars(query))

    def pending(self, organization_id: str, license_type: str) -> ScheduledChange | None:
        query = select(ScheduledChange).where(
            table.c.organization_id == organization_id,
            table.c.license_type == license_type,
            table.c.state.in_([s.value for s in PENDING]),
        )
        return self.session.scalars(query).first()

    def by_schedule(self, schedule_id: str) -> ScheduledChange | None:
        """The newest change seatflow recorded this schedule for."""
        query = (
            select(ScheduledChange)
            .where(table.c.stripe_schedule_id == schedule_id)
            .order_by(table.c.created_at.desc())
        )
        return self.session.scalars(query).first()

    def release_due(self, organization_id: str, license_type: str) -> list[str]:
        """Ids of the subscription's ended changes whose schedule Stripe still holds."""
        query = select(table.c.id).where(
            table.c.organization_id == organization_id,
            table.c.license_type == license_type,
            table.c.state.in_([C.APPLIED.value, C.CANCELED.value]),
            table.c.stripe_schedule_id.is_not(None),
            table.c.stripe_released_at.is_(None),
        )
        return list(self.session.scalars(query))

    def waiting_for_stripe(self) -> list[tuple[str, str, str]]:
        """(id, organization id, schedule id) of changes Stripe holds a schedule for that is
        still expected to renew into them: what reconciliation compares with Stripe."""
        query = select(table.c.id, table.c.organization_id, table.c.stripe_schedule_id).where(
            table.c.state == C.SCHEDULED.value, table.c.stripe_schedule_id.is_not(None)
        )
        return [(row[0], row[1], row[2]) for row in self.session.execute(query)]

    def stuck(self, cutoff: datetime) -> list[tuple[str, str]]:
        """(id, state) of changes whose Stripe step is overdue since `cutoff`: recorded and
        never scheduled at Stripe, or ended while Stripe still holds their schedule."""
        query = select(table.c.id, table.c.state).where(
            table.c.updated_at < cutoff,
            or_(
                table.c.state == C.SCHEDULING.value,
                table.c.state.in_([C.APPLIED.value, C.CANCELED.value])
                & table.c.stripe_schedule_id.is_not(None)
                & table.c.stripe_released_at.is_(None),
            ),
        )
        return [(row[0], row[1]) for row in self.session.execute(query)]
