"""Operator actions behind the CLI: organizations, inbox listing, replay and redrive."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from celery import Celery
from sqlalchemy import Engine, select, update

from config.tasks import PROCESS_STRIPE_EVENT
from domain.model import Organization
from workers import handlers
from workers.deps import Deps
from workers.orm import inbox
from workers.unit_of_work import SqlUnitOfWork


def create_organization(
    uow: SqlUnitOfWork, name: str, org_id: str | None = None, customer: str | None = None
) -> dict[str, Any]:
    org = Organization(
        id=org_id or f"org_{secrets.token_hex(8)}", name=name, stripe_customer_id=customer
    )
    with uow:
        uow.organizations.add(org)
        uow.commit()
    return {"id": org.id, "name": org.name, "stripe_customer_id": org.stripe_customer_id}


def list_events(engine: Engine, state: str | None, limit: int) -> list[dict[str, Any]]:
    query = (
        select(
            inbox.c.event_id,
            inbox.c.type,
            inbox.c.state,
            inbox.c.attempts,
            inbox.c.last_error,
            inbox.c.received_at,
        )
        .order_by(inbox.c.id.desc())
        .limit(limit)
    )
    if state:
        query = query.where(inbox.c.state == state)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def show_event(engine: Engine, event_id: str) -> dict[str, Any] | None:
    import json

    with engine.connect() as conn:
        row = conn.execute(select(inbox).where(inbox.c.event_id == event_id)).first()
    if row is None:
        return None
    data = dict(row._mapping)
    data["payload"] = json.loads(data["payload"])
    return data


def _reset(engine: Engine, *conditions: Any) -> list[str]:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        ids = list(conn.scalars(select(inbox.c.event_id).where(*conditions)))
        if ids:
            conn.execute(
                update(inbox)
                .where(inbox.c.event_id.in_(ids))
                .values(state="received", updated_at=now, last_error=None)
            )
    return ids


def replay_event(engine: Engine, uow: SqlUnitOfWork, deps: Deps, event_id: str) -> str:
    """Process the stored payload again, here and now (the version guard still applies)."""
    if not _reset(engine, inbox.c.event_id == event_id):
        return "missing"
    return handlers.process_stripe_event(event_id, uow, deps)


def redrive_dead(engine: Engine, celery: Celery, dry_run: bool = False) -> list[str]:
    if dry_run:
        with engine.connect() as conn:
            return list(conn.scalars(select(inbox.c.event_id).where(inbox.c.state == "dead")))
    ids = _reset(engine, inbox.c.state == "dead")
    for event_id in ids:
        try:
            celery.send_task(PROCESS_STRIPE_EVENT, args=[event_id], retry=False)
        except Exception:  # broker down: the rows are `received`, the sweeper takes them
            break
    return ids
