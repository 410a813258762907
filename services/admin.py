"""Operator actions behind the CLI: organizations, inbox listing, replay and redrive."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from config.tasks import PROCESS_STRIPE_EVENT
from domain.catalog import CatalogPrice
from domain.catalog_entries import merge_conflicts, parse_catalog
from domain.discounts import Discount, canonical_code
from domain.errors import (
    BadCatalogEntry,
    CatalogConflict,
    DiscountCodeExists,
    DiscountCodeInvalid,
)
from domain.model import Member, Organization, Role
from domain.ports import StripeDoor, UnitOfWork
from domain.tokens import new_token, token_hash
from services import stripe_events
from services.deps import Deps


def create_organization(
    uow: UnitOfWork, name: str, org_id: str | None = None, customer: str | None = None
) -> dict[str, Any]:
    org = Organization(
        id=org_id or f"org_{secrets.token_hex(8)}", name=name, stripe_customer_id=customer
    )
    with uow:
        uow.organizations.add(org)
        uow.commit()
    return {"id": org.id, "name": org.name, "stripe_customer_id": org.stripe_customer_id}


def list_events(uow: UnitOfWork, state: str | None, limit: int) -> list[dict[str, Any]]:
    with uow:
        return uow.inbox.listing(state, limit)


def show_event(uow: UnitOfWork, event_id: str) -> dict[str, Any] | None:
    with uow:
        data = uow.inbox.full_row(event_id)
    if data is None:
        return None
    data["payload"] = json.loads(data["payload"])
    return data


def _reset(uow: UnitOfWork, find: Callable[[UnitOfWork], list[str]]) -> list[str]:
    """In one transaction, the events `find` names are to be applied again: `received`,
    their last error forgotten."""
    with uow:
        event_ids = find(uow)
        if event_ids:
            uow.inbox.reset(event_ids, datetime.now(UTC))
            uow.commit()
    return event_ids


def replay_event(uow: UnitOfWork, deps: Deps, event_id: str) -> str:
    """Process the stored payload again, here and now (the version guard still applies)."""
    if not _reset(uow, lambda u: sorted(u.inbox.known_ids([event_id]))):
        return "missing"
    return stripe_events.process_stripe_event(event_id, uow, deps)


class TaskSender(Protocol):
    """What sends a task by name (a Celery app)."""

    def send_task(self, name: str, args: list[Any], retry: bool) -> object: ...


def redrive(
    uow: UnitOfWork,
    celery: TaskSender,
    *,
    event_ids: list[str] | None = None,
    types: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    dry_run: bool = False,
) -> list[str]:
    """Send dead events (all, or by id, type, receipt time) back to the workers."""

    def dead(u: UnitOfWork) -> list[str]:
        return u.inbox.dead_ids(event_ids or [], types or [], since, until)

    if dry_run:
        with uow:
            return dead(uow)
    ids = _reset(uow, dead)
    for event_id in ids:
        try:
            celery.send_task(PROCESS_STRIPE_EVENT, args=[event_id], retry=False)
        except Exception:  # broker down: the rows are `received`, the sweeper takes them
            break
    return ids


def not_redriven(
    uow: UnitOfWork, event_ids: list[str], redriven: list[str]
) -> dict[str, str | None]:
    """The state of each of `event_ids` left out of `redriven` (None: no such event), so
    that an operator learns why."""
    with uow:
        return {i: uow.inbox.state_of(i) for i in event_ids if i not in redriven}


def purge_dead(uow: UnitOfWork, event_ids: list[str]) -> int:
    """Delete dead events for good (they are otherwise kept until redriven)."""
    with uow:
        purged = uow.inbox.purge_dead(event_ids)
        uow.commit()
    return purged


def prune_applied(
    uow: UnitOfWork,
    older_than: timedelta,
    batch: int = 1000,
    dry_run: bool = False,
    now: datetime | None = None,
) -> int:
    """Delete finished events older than `older_than`, in batches; dead rows are kept."""
    cutoff = (now or datetime.now(UTC)) - older_than
    return _prune(
        uow,
        lambda uow: uow.inbox.count_done_before(cutoff),
        lambda uow: uow.inbox.delete_done_before(cutoff, batch),
        batch,
        dry_run,
    )


def add_member(uow: UnitOfWork, org_id: str, email: str, role: str) -> dict[str, Any]:
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


def remove_member(uow: UnitOfWork, member_id: str) -> bool:
    with uow:
        member = uow.members.get(member_id)
        if member is None:
            return False
        member.remove(datetime.now(UTC))
        uow.commit()
    return True


def create_token(uow: UnitOfWork, member_id: str) -> dict[str, Any]:
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


def import_catalog(uow: UnitOfWork, entries: object) -> int:
    """Check every entry (BadCatalogEntry names the first bad one) and the catalog they and
    the stored prices make (CatalogConflict lists every conflict), then store them all."""
    prices = parse_catalog(entries)
    with uow:
        conflicts = merge_conflicts(uow.catalog.load(), prices)
        if conflicts:
            raise CatalogConflict(
                f"the import conflicts with the stored catalog ({len(conflicts)}): "
                f"{'; '.join(conflicts)}. Nothing was imported; `seatflow catalog import "
                "--replace` replaces the whole stored catalog with the import"
            )
        for price in prices:
            uow.catalog.put(price)
        uow.commit()
    return len(prices)


def replace_catalog(uow: UnitOfWork, entries: object) -> tuple[int, int]:
    """The catalog becomes exactly `entries`: (prices imported, stored prices replaced)."""
    prices = parse_catalog(entries)
    with uow:
        removed = uow.catalog.clear()
        for price in prices:
            uow.catalog.put(price)
        uow.commit()
    return len(prices), removed


def stripe_catalog_entries(door: StripeDoor) -> list[dict[str, Any]]:
    """The catalog from Stripe's prices and their metadata, so that the two cannot disagree."""
    entries = door.catalog_entries()
    if not entries:
        raise BadCatalogEntry("no active recurring Stripe price has metadata.license_type")
    return entries


def list_catalog(uow: UnitOfWork) -> list[CatalogPrice]:
    with uow:
        return list(uow.catalog.load())


def create_discount(
    uow: UnitOfWork,
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
    code = canonical_code(code)  # stored, reserved and compared in one form
    discount = Discount(
        code=code,
        percent_off=percent_off,
        amount_off=amount_off,
        currency=currency.lower() if currency else None,
        expires_at=expires_at,
        max_redemptions=max_redemptions,
    )
    with uow:
        if uow.catalog.discount(code) is not None:
            raise DiscountCodeExists(f"discount code {code!r} already exists")
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


def prune_released_activations(
    uow: UnitOfWork,
    older_than: timedelta,
    batch: int = 1000,
    dry_run: bool = False,
    now: datetime | None = None,
) -> int:
    """Delete released offline activations whose file expired more than `older_than` ago, in
    batches (they hold no seat any more); active and revoked ones are kept."""
    cutoff = (now or datetime.now(UTC)) - older_than
    return _prune(
        uow,
        lambda uow: uow.licenses.count_released_expired_before(cutoff),
        lambda uow: uow.licenses.delete_released_expired_before(cutoff, batch),
        batch,
        dry_run,
    )


def _prune(
    uow: UnitOfWork,
    count: Callable[[UnitOfWork], int],
    delete: Callable[[UnitOfWork], int],
    batch: int,
    dry_run: bool,
) -> int:
    """Delete in batches of `batch`, one transaction each, until a batch comes back short;
    how many went (with `dry_run`, how many would)."""
    if dry_run:
        with uow:
            return count(uow)
    total = 0
    while True:
        with uow:
            deleted = delete(uow)
            uow.commit()
        total += deleted
        if deleted < batch:
            return total


def _discount_row(d: Discount) -> dict[str, Any]:
    fields = ("code", "percent_off", "amount_off", "currency", "active", "expires_at")
    return {f: getattr(d, f) for f in (*fields, "max_redemptions", "times_redeemed")}


def list_discounts(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [_discount_row(d) for d in uow.catalog.all_discounts()]


def disable_discount(uow: UnitOfWork, code: str) -> dict[str, Any]:
    """The code is refused from now on; upgrades that already hold it keep it."""
    with uow:
        discount = uow.catalog.discount(code, lock=True)
        if discount is None:
            raise DiscountCodeInvalid(f"no discount code {canonical_code(code)!r}")
        discount.active = False
        uow.commit()
        return _discount_row(discount)


def remove_catalog_price(uow: UnitOfWork, stripe_price_id: str) -> CatalogPrice:
    with uow:
        removed = uow.catalog.remove(stripe_price_id)
        if removed is None:
            raise BadCatalogEntry(f"no catalog price with Stripe price id {stripe_price_id!r}")
        uow.commit()
    return removed
