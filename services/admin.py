"""Operator actions behind the CLI: organizations, inbox listing, replay and redrive."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery
from sqlalchemy import Engine, delete, func, select, update

from adapters.orm import inbox
from adapters.tokens import new_token, token_hash
from adapters.unit_of_work import SqlUnitOfWork
from config.tasks import PROCESS_STRIPE_EVENT
from domain.catalog import CatalogPrice
from domain.discounts import Discount
from domain.model import Member, Organization, Role
from services import stripe_events
from services.deps import Deps


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
    return stripe_events.process_stripe_event(event_id, uow, deps)


def _dead_matching(
    event_ids: list[str], types: list[str], since: datetime | None, until: datetime | None
) -> list[Any]:
    conditions = [inbox.c.state == "dead"]
    if event_ids:
        conditions.append(inbox.c.event_id.in_(event_ids))
    if types:
        conditions.append(inbox.c.type.in_(types))
    if since:
        conditions.append(inbox.c.received_at >= since)
    if until:
        conditions.append(inbox.c.received_at < until)
    return conditions


def redrive(
    engine: Engine,
    celery: Celery,
    *,
    event_ids: list[str] | None = None,
    types: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    dry_run: bool = False,
) -> list[str]:
    """Send dead events (all, or by id, type, receipt time) back to the workers."""
    conditions = _dead_matching(event_ids or [], types or [], since, until)
    if dry_run:
        with engine.connect() as conn:
            return list(conn.scalars(select(inbox.c.event_id).where(*conditions)))
    ids = _reset(engine, *conditions)
    for event_id in ids:
        try:
            celery.send_task(PROCESS_STRIPE_EVENT, args=[event_id], retry=False)
        except Exception:  # broker down: the rows are `received`, the sweeper takes them
            break
    return ids


def purge_dead(engine: Engine, event_ids: list[str]) -> int:
    """Delete dead events for good (they are otherwise kept until redriven)."""
    with engine.begin() as conn:
        result = conn.execute(
            delete(inbox).where(inbox.c.state == "dead", inbox.c.event_id.in_(event_ids))
        )
    return int(result.rowcount)


def prune_applied(
    engine: Engine,
    older_than: timedelta,
    batch: int = 1000,
    dry_run: bool = False,
    now: datetime | None = None,
) -> int:
    """Delete finished events older than `older_than`, in batches; dead rows are kept."""
    cutoff = (now or datetime.now(UTC)) - older_than
    done = inbox.c.state.in_(["applied", "ignored", "skipped_stale"])
    if dry_run:
        with engine.connect() as conn:
            count = conn.scalar(select(func.count()).where(done, inbox.c.updated_at < cutoff))
        return int(count or 0)
    total = 0
    while True:
        with engine.begin() as conn:
            ids = select(inbox.c.id).where(done, inbox.c.updated_at < cutoff).limit(batch)
            deleted = conn.execute(delete(inbox).where(inbox.c.id.in_(ids))).rowcount
        total += deleted
        if deleted < batch:
            return total


def add_member(uow: SqlUnitOfWork, org_id: str, email: str, role: str) -> dict[str, Any]:
    if role not in {r.value for r in Role}:
        raise ValueError(f"role must be one of {', '.join(r.value for r in Role)}")
    member = Member(
        id=f"mem_{secrets.token_hex(8)}", organization_id=org_id, email=email, role=role
    )
    with uow:
        if uow.organizations.get(org_id) is None:
            raise ValueError(f"no organization {org_id!r}")
        uow.members.add(member)
        uow.commit()
    return {"id": member.id, "organization_id": org_id, "email": email, "role": role}


def remove_member(uow: SqlUnitOfWork, member_id: str) -> bool:
    with uow:
        member = uow.members.get(member_id)
        if member is None:
            return False
        member.removed_at = datetime.now(UTC)
        uow.commit()
    return True


def create_token(uow: SqlUnitOfWork, member_id: str) -> dict[str, Any]:
    token = new_token()
    with uow:
        member = uow.members.get(member_id)
        if member is None:
            raise ValueError(f"no member {member_id!r}")
        uow.members.add_token(member_id, token_hash(token), datetime.now(UTC))
        uow.commit()
    return {
        "token": token,
        "member_id": member_id,
        "organization_id": member.organization_id,
        "role": member.role,
    }


def import_catalog(uow: SqlUnitOfWork, entries: list[dict[str, Any]]) -> int:
    prices = [
        CatalogPrice(
            license_type=str(e["license_type"]),
            interval=str(e["interval"]),
            unit_amount=int(e["unit_amount"]),
            currency=str(e["currency"]).lower(),
            stripe_price_id=str(e["stripe_price_id"]),
        )
        for e in entries
    ]
    for price in prices:
        if price.interval not in ("month", "year") or price.unit_amount < 0:
            raise ValueError(f"bad catalog entry {price}")
    with uow:
        for price in prices:
            uow.catalog.put(price)
        uow.commit()
    return len(prices)


def list_catalog(uow: SqlUnitOfWork) -> list[CatalogPrice]:
    with uow:
        return list(uow.catalog.load())


def create_discount(
    uow: SqlUnitOfWork,
    code: str,
    percent_off: int | None,
    amount_off: int | None,
    currency: str | None,
    expires_at: datetime | None,
    max_redemptions: int | None,
) -> dict[str, Any]:
    if (percent_off is None) == (amount_off is None):
        raise ValueError("give exactly one of --percent-off and --amount-off")
    if percent_off is not None and not 1 <= percent_off <= 100:
        raise ValueError("--percent-off must be 1..100")
    if amount_off is not None and amount_off <= 0:
        raise ValueError("--amount-off must be more than 0")
    if amount_off is not None and not currency:
        raise ValueError("--amount-off needs --currency")
    code = code.upper()  # codes compare case-insensitively
    discount = Discount(
        code=code,
        percent_off=percent_off,
        amount_off=amount_off,
        currency=currency.lower() if currency else None,
        expires_at=expires_at,
        max_redemptions=max_redemptions,
    )
    with uow:
        uow.catalog.add_discount(discount)
        uow.commit()
    return {
        "code": code,
        "percent_off": percent_off,
        "amount_off": amount_off,
        "currency": discount.currency,
        "expires_at": expires_at,
        "max_redemptions": max_redemptions,
    }
