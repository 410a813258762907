"""Repositories over the SQLAlchemy session: organizations (the aggregate), catalog, members
and licenses. Upgrades' is in adapters/upgrade_repository.py, the inbox's in
adapters/inbox_repository.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

# InboxRow and DONE_STATES are re-exported for services.stripe_events, which imports them here.
from adapters.inbox_repository import InboxRow as InboxRow
from adapters.orm import (
    api_tokens,
    catalog_prices,
    discount_codes,
    licenses,
    members,
    offline_activations,
    organizations,
)
from config.inbox import DONE_STATES as DONE_STATES
from domain.catalog import Catalog, CatalogPrice
from domain.discounts import Discount
from domain.errors import OrganizationNotFound
from domain.licenses import License, LicenseStatus, OfflineActivation
from domain.model import Member, Organization
from domain.upgrades import UpgradeState

S = UpgradeState


class SqlOrganizationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: list[Organization] = []
        # Row locks are held to the end of the transaction: an organization locked once is
        # not asked for again (a task message's events often share organizations).
        self._locked: list[Organization] = []

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
        held = next((o for o in self._locked if o.id == organization_id), None)
        if held is not None:
            return held
        query = select(Organization).where(organizations.c.id == organization_id)
        return self._one(query, lock)

    def locked(self, organization_id: str) -> Organization:
        """The organization, row-locked for this transaction; a named error if unknown."""
        org = self.get(organization_id, lock=True)
        if org is None:
            raise OrganizationNotFound(f"no organization {organization_id!r}")
        return org

    def get_by_customer(self, customer_id: str, *, lock: bool = False) -> Organization | None:
        held = next((o for o in self._locked if o.stripe_customer_id == customer_id), None)
        if held is not None:
            return held
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
        if found is not None and lock:
            self._locked.append(found)
        return found


class SqlCatalogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def load(self) -> Catalog:
        rows = self.session.execute(select(catalog_prices)).all()
        return Catalog(CatalogPrice(**row._mapping) for row in rows)

    def put(self, price: CatalogPrice) -> None:
        values = dict(vars(price))
        same = (
            (catalog_prices.c.license_type == price.license_type)
            & (catalog_prices.c.tier == price.tier)
            & (catalog_prices.c.interval == price.interval)
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

    def valid_token(self, token_hash: str, now: datetime) -> tuple[Member, datetime | None] | None:
        """The member of an unrevoked, unexpired token, and when that token expires."""
        query = (
            select(Member, api_tokens.c.expires_at)
            .join(api_tokens, api_tokens.c.member_id == members.c.id)
            .where(
                api_tokens.c.token_hash == token_hash,
                api_tokens.c.revoked_at.is_(None),
                or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now),
            )
        )
        row = self.session.execute(query).first()
        return (row[0], row[1]) if row else None

    def add_expiring_token(
        self, member_id: str, token_hash: str, now: datetime, expires_at: datetime | None
    ) -> int:
        values = dict(member_id=member_id, token_hash=token_hash, created_at=now)
        statement = insert(api_tokens).values(**values, expires_at=expires_at)
        return int(self.session.execute(statement.returning(api_tokens.c.id)).scalar_one())

    def revoke_token(self, token_id: int, now: datetime) -> str | None:
        """Revoke a token that is not revoked yet; its member's id, or None."""
        statement = (
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
            .returning(api_tokens.c.member_id)
        )
        row = self.session.execute(statement).first()
        return str(row.member_id) if row else None

    def of_organization(self, organization_id: str) -> list[Member]:
        query = select(Member).where(members.c.organization_id == organization_id)
        return list(self.session.scalars(query.order_by(members.c.email)))

    def tokens(self, organization_id: str) -> list[dict[str, Any]]:
        """An organization's tokens (never their hashes), oldest first."""
        t = api_tokens.c
        query = (
            select(t.id, t.member_id, members.c.email, t.created_at, t.expires_at, t.revoked_at)
            .join(members, t.member_id == members.c.id)
            .where(members.c.organization_id == organization_id)
            .order_by(t.id)
        )
        return [dict(row._mapping) for row in self.session.execute(query)]


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
