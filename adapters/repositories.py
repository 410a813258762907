"""Repositories over the SQLAlchemy session: organizations (the aggregate) and the inbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from adapters.orm import (
    api_tokens,
    catalog_prices,
    discount_codes,
    inbox,
    licenses,
    members,
    offline_activations,
    organizations,
    upgrades,
)
from domain.catalog import Catalog, CatalogPrice
from domain.discounts import Discount
from domain.errors import OrganizationNotFound
from domain.licenses import License, LicenseStatus, OfflineActivation
from domain.model import Member, Organization
from domain.upgrades import OPEN_STATES, Estimate, Upgrade, UpgradeState


class SqlOrganizationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: list[Organization] = []

    def add(self, organization: Organization) -> None:
        self.session.add(organization)
        self.seen.append(organization)

    def flush_ledgers(self) -> None:
        """Persist the seat-ledger entries the aggregates appended (append-only)."""
        for organization in self.seen:
            for entry in organization.ledger:
                if entry.id is None:
                    entry.organization_id = organization.id
                    self.session.add(entry)

    def get(self, organization_id: str, *, lock: bool = False) -> Organization | None:
        query = select(Organization).where(organizations.c.id == organization_id)
        return self._one(query, lock)

    def locked(self, organization_id: str) -> Organization:
        """The organization, row-locked for this transaction; a named error if unknown."""
        org = self.get(organization_id, lock=True)
        if org is None:
            raise OrganizationNotFound(f"no organization {organization_id!r}")
        return org

    def get_by_customer(self, customer_id: str, *, lock: bool = False) -> Organization | None:
        query = select(Organization).where(organizations.c.stripe_customer_id == customer_id)
        return self._one(query, lock)

    def list(self) -> Sequence[Organization]:
        return self.session.scalars(select(Organization).order_by("id")).all()

    def _one(self, query: Any, lock: bool) -> Organization | None:
        if lock:
            # One change at a time per organization: concurrent events for the same
            # organization wait here; other organizations proceed in parallel. The
            # subscriptions must be read after the lock is granted (the mapping's separate
            # select-in load does that): joined into this statement they would come from its
            # snapshot, taken before the previous holder committed, and an older event could
            # then overwrite a newer one (the shuffled-delivery fault test catches it).
            query = query.with_for_update()
        found = self.session.scalars(query).first()
        if found is not None and found not in self.seen:
            self.seen.append(found)
        return found


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


class SqlUpgradeRepository:
    """Estimates and upgrades (each its own aggregate, keyed to an organization)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_estimate(self, estimate: Estimate) -> None:
        self.session.add(estimate)

    def estimate(self, organization_id: str, estimate_id: str) -> Estimate | None:
        found = self.session.get(Estimate, estimate_id)
        return found if found and found.organization_id == organization_id else None

    def add(self, upgrade: Upgrade) -> None:
        self.session.add(upgrade)

    def get(self, upgrade_id: str, *, lock: bool = False) -> Upgrade | None:
        query = select(Upgrade).where(upgrades.c.id == upgrade_id)
        if lock:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def for_organization(self, organization_id: str, upgrade_id: str) -> Upgrade | None:
        found = self.get(upgrade_id)
        return found if found and found.organization_id == organization_id else None

    def by_idempotency_key(self, organization_id: str, key: str) -> Upgrade | None:
        query = select(Upgrade).where(
            upgrades.c.organization_id == organization_id, upgrades.c.idempotency_key == key
        )
        return self.session.scalars(query).first()

    def by_invoice(self, invoice_id: str) -> Upgrade | None:
        return self.session.scalars(
            select(Upgrade).where(upgrades.c.stripe_invoice_id == invoice_id)
        ).first()

    def open_for(self, organization_id: str, license_type: str) -> Upgrade | None:
        query = select(Upgrade).where(
            upgrades.c.organization_id == organization_id,
            upgrades.c.license_type == license_type,
            upgrades.c.state.in_([s.value for s in OPEN_STATES]),
        )
        return self.session.scalars(query).first()

    def unpaid_before(self, cutoff: datetime) -> list[str]:
        query = select(upgrades.c.id).where(
            upgrades.c.state.in_(
                [
                    UpgradeState.AWAITING_PAYMENT.value,
                    UpgradeState.REQUIRES_ACTION.value,
                    UpgradeState.PAYMENT_FAILED.value,
                ]
            ),
            upgrades.c.created_at < cutoff,
        )
        return list(self.session.scalars(query))

    def failed_with_invoice(
        self, organization_id: str, license_type: str, other_than: str
    ) -> list[tuple[str, str]]:
        """(id, invoice id) of failed upgrades of a subscription whose invoice may be open."""
        query = select(upgrades.c.id, upgrades.c.stripe_invoice_id).where(
            upgrades.c.organization_id == organization_id,
            upgrades.c.license_type == license_type,
            upgrades.c.state == UpgradeState.PAYMENT_FAILED.value,
            upgrades.c.stripe_invoice_id.is_not(None),
            upgrades.c.id != other_than,
        )
        return [(row[0], row[1]) for row in self.session.execute(query)]

    def stuck(self, cutoff: datetime) -> list[tuple[str, str]]:
        """(id, state) of upgrades whose next step is overdue since `cutoff`: a lost charge
        message, a charge whose claim or backoff ended, a change not yet pushed to Stripe."""
        S = UpgradeState
        charging = upgrades.c.state == S.CHARGING.value
        query = select(upgrades.c.id, upgrades.c.state).where(
            or_(
                (upgrades.c.state == S.REQUESTED.value) & (upgrades.c.updated_at < cutoff),
                charging & upgrades.c.retry_at.is_not(None) & (upgrades.c.retry_at < cutoff),
                charging & upgrades.c.retry_at.is_(None) & (upgrades.c.updated_at < cutoff),
                (upgrades.c.state == S.APPLIED.value)
                & upgrades.c.stripe_synced_at.is_(None)
                & (upgrades.c.updated_at < cutoff),
            )
        )
        return [(row[0], row[1]) for row in self.session.execute(query)]

    def reserved(self, code: str, other_than: str | None = None) -> int:
        """Redemptions of a discount code held by upgrades not yet paid or given up."""
        query = select(func.count()).where(
            func.upper(upgrades.c.discount_code) == code.upper(),
            upgrades.c.state.in_([s.value for s in OPEN_STATES]),
            upgrades.c.id != (other_than or ""),
        )
        return int(self.session.scalar(query) or 0)


class SqlCatalogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def load(self) -> Catalog:
        rows = self.session.execute(select(catalog_prices)).all()
        return Catalog(CatalogPrice(**row._mapping) for row in rows)

    def put(self, price: CatalogPrice) -> None:
        values = dict(vars(price))
        same = (catalog_prices.c.license_type == price.license_type) & (
            catalog_prices.c.interval == price.interval
        )
        result = self.session.execute(update(catalog_prices).where(same).values(**values))
        if not result.rowcount:  # type: ignore[attr-defined]
            self.session.execute(insert(catalog_prices).values(**values))

    def discount(self, code: str, *, lock: bool = False) -> Discount | None:
        query = select(Discount).where(func.upper(discount_codes.c.code) == code.upper())
        if lock:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def add_discount(self, discount: Discount) -> None:
        self.session.add(discount)


class SqlMemberRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, member: Member) -> None:
        self.session.add(member)

    def get(self, member_id: str) -> Member | None:
        return self.session.get(Member, member_id)

    def by_token_hash(self, token_hash: str) -> Member | None:
        query = (
            select(Member)
            .join(api_tokens, api_tokens.c.member_id == members.c.id)
            .where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None))
        )
        return self.session.scalars(query).first()

    def add_token(self, member_id: str, token_hash: str, now: datetime) -> None:
        self.session.execute(
            insert(api_tokens).values(member_id=member_id, token_hash=token_hash, created_at=now)
        )


class SqlLicenseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, item: License | OfflineActivation) -> None:
        self.session.add(item)

    def supersede_current(
        self, organization_id: str, license_type: str, cause: str
    ) -> tuple[int, str] | None:
        """Mark the current license superseded unless `cause` issued it, in one statement;
        its (version, interval), or None when no current license of another cause exists."""
        statement = (
            update(License)
            .where(
                licenses.c.organization_id == organization_id,
                licenses.c.license_type == license_type,
                licenses.c.status == LicenseStatus.CURRENT.value,
                licenses.c.cause != cause,
            )
            .values(status=LicenseStatus.SUPERSEDED.value)
            .returning(licenses.c.version, licenses.c.interval)
        )
        row = self.session.execute(statement).first()
        return (row.version, row.interval) if row else None

    def current(self, organization_id: str, license_type: str) -> License | None:
        query = (
            select(License)
            .where(
                licenses.c.organization_id == organization_id,
                licenses.c.license_type == license_type,
            )
            .order_by(licenses.c.version.desc())
            .limit(1)
        )
        return self.session.scalars(query).first()

    def history(self, organization_id: str) -> list[License]:
        query = (
            select(License)
            .where(licenses.c.organization_id == organization_id)
            .order_by(licenses.c.license_type, licenses.c.version.desc())
        )
        return list(self.session.scalars(query))

    def get(self, organization_id: str, license_id: str) -> License | None:
        found = self.session.get(License, license_id)
        return found if found and found.organization_id == organization_id else None

    def activations(
        self, organization_id: str, license_type: str | None = None, active_only: bool = False
    ) -> list[OfflineActivation]:
        query = select(OfflineActivation).where(
            offline_activations.c.organization_id == organization_id
        )
        if license_type:
            query = query.where(offline_activations.c.license_type == license_type)
        if active_only:
            query = query.where(offline_activations.c.status == "active")
        return list(self.session.scalars(query.order_by(offline_activations.c.issued_at)))

    def activation(self, organization_id: str, activation_id: str) -> OfflineActivation | None:
        found = self.session.get(OfflineActivation, activation_id)
        return found if found and found.organization_id == organization_id else None
