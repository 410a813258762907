"""Repositories over the SQLAlchemy session: organizations (the aggregate), catalog, members
and licenses. Upgrades' is in adapters/upgrade_repository.py, the inbox's in
adapters/inbox_repository.py."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from adapters.orm import (
    api_tokens,
    catalog_prices,
    discount_codes,
    licenses,
    members,
    offline_activations,
    organizations,
    seat_ledger,
    subscriptions,
)
from adapters.sql import among, insert_all
from domain.catalog import Catalog, CatalogPrice
from domain.discounts import Discount, canonical_code
from domain.errors import OrganizationNotFound
from domain.licenses import (
    ActivationStatus,
    License,
    LicenseStatus,
    LicenseTerms,
    OfflineActivation,
)
from domain.model import Member, Organization, Subscription

_LEDGER_COLUMNS = [c.name for c in seat_ledger.c if c.name not in ("id", "organization_id")]


class SqlOrganizationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: list[Organization] = []
        # Row locks are held to the end of the transaction: an organization locked once is
        # not asked for again (a task message's events often share organizations). By id and
        # by Stripe customer.
        self._locked: dict[str, Organization] = {}
        self._locked_customers: dict[str, Organization] = {}

    def add(self, organization: Organization) -> None:
        self.session.add(organization)
        self.seen.append(organization)

    def release(self) -> None:
        """The transaction ended without a commit: its row locks are released."""
        self._locked.clear()
        self._locked_customers.clear()

    def flush_ledgers(self) -> None:
        """Write the seat-ledger entries the aggregates appended (append-only), in one
        statement, after the session's flush wrote the organizations they belong to; an
        aggregate keeps none it handed over."""
        rows = []
        for organization in self.seen:
            for fields in map(vars, organization.ledger):  # as for licenses: no instrumentation
                rows.append(
                    {c: fields[c] for c in _LEDGER_COLUMNS} | {"organization_id": organization.id}
                )
            organization.ledger = []
        insert_all(self.session, seat_ledger, rows)

    def get(self, organization_id: str, *, lock: bool = False) -> Organization | None:
        held = self._locked.get(organization_id)
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
        held = self._locked_customers.get(customer_id)
        if held is not None:
            return held
        query = select(Organization).where(organizations.c.stripe_customer_id == customer_id)
        return self._one(query, lock)

    def lock_customers(self, customer_ids: Iterable[str]) -> None:
        """Lock the organizations of these Stripe customers (the ones a batch of events names)
        in one statement, in id order, and load their subscriptions after the locks are
        granted; later `get_by_customer` calls find them held."""
        wanted = sorted(set(customer_ids) - self._locked_customers.keys())
        if not wanted:
            return
        query = (
            select(Organization)
            .where(among(self.session, organizations.c.stripe_customer_id, wanted))
            .order_by(organizations.c.id)
            .with_for_update()
            .options(lazyload(Organization.subscriptions))  # type: ignore[arg-type]
        )
        found = self.session.scalars(query).all()
        self._load_subscriptions(found)
        for organization in found:
            self._hold(organization)

    def _load_subscriptions(self, found: Sequence[Organization]) -> None:
        """The subscriptions of organizations just locked, in one statement read after the
        locks were granted (as the mapping's select-in load would, but with one array
        parameter: its IN of one parameter per organization is a new statement for the
        driver at every size). Those whose subscriptions are already loaded keep them."""
        unloaded = {o.id: o for o in found if "subscriptions" not in vars(o)}
        if not unloaded:
            return
        query = (
            select(Subscription, subscriptions.c.organization_id)
            .where(among(self.session, subscriptions.c.organization_id, unloaded))
            .order_by(subscriptions.c.id)
        )
        held: dict[str, list[Subscription]] = {key: [] for key in unloaded}
        for subscription, organization_id in self.session.execute(query):
            held[organization_id].append(subscription)
        for key, organization in unloaded.items():
            set_committed_value(organization, "subscriptions", held[key])

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
        if found is not None and lock:
            self._hold(found)
        elif found is not None and found not in self.seen:
            self.seen.append(found)
        return found

    def _hold(self, locked: Organization) -> None:
        """Remember an organization this transaction has locked."""
        if locked not in self.seen:
            self.seen.append(locked)
        self._locked[locked.id] = locked
        if locked.stripe_customer_id:
            self._locked_customers[locked.stripe_customer_id] = locked


class SqlCatalogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._loaded: Catalog | None = None  # read once a transaction; `put` forgets it

    def load(self) -> Catalog:
        if self._loaded is None:
            rows = self.session.execute(select(catalog_prices)).all()
            self._loaded = Catalog(CatalogPrice(**row._mapping) for row in rows)
        return self._loaded

    def forget(self) -> None:
        self._loaded = None

    def put(self, price: CatalogPrice) -> None:
        self._loaded = None
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
        # Stored canonical; upper() still finds a row stored before codes were canonical.
        query = select(Discount).where(func.upper(discount_codes.c.code) == canonical_code(code))
        if lock:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def add_discount(self, discount: Discount) -> None:
        self.session.add(discount)

    def all_discounts(self) -> list[Discount]:
        return list(self.session.scalars(select(Discount).order_by(discount_codes.c.code)))

    def clear(self) -> int:
        """Delete every price; how many there were."""
        self._loaded = None
        result = self.session.execute(delete(catalog_prices))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def remove(self, stripe_price_id: str) -> CatalogPrice | None:
        """Delete the price with this Stripe price id; the price it was, or None."""
        self._loaded = None
        row = self.session.execute(
            delete(catalog_prices)
            .where(catalog_prices.c.stripe_price_id == stripe_price_id)
            .returning(*catalog_prices.c)
        ).first()
        return CatalogPrice(**row._mapping) if row is not None else None


class SqlMemberRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, member: Member) -> None:
        self.session.add(member)

    def get(self, member_id: str) -> Member | None:
        return self.session.get(Member, member_id)

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


class _Head(NamedTuple):
    """What superseding needs of an (organization, license type)'s current license, and
    what it grants."""

    id: str
    version: int
    interval: str
    cause: str
    seats: int
    tier: str
    features: tuple[str, ...]
    valid_until: datetime


_LICENSE_COLUMNS = [c.name for c in licenses.c]
_HEAD_COLUMNS = [
    licenses.c.id,
    licenses.c.version,
    licenses.c.interval,
    licenses.c.cause,
    licenses.c.seats,
    licenses.c.tier,
    licenses.c.features,
    licenses.c.valid_until,
]


def _license(row: Any) -> License:
    fields = dict(row)
    fields["features"] = tuple(fields["features"] or ())
    return License(**fields)


class SqlLicenseRepository:
    """License versions and offline activations.

    Within one transaction it remembers the current license of each (organization, license
    type) it has read or issued, so a second change of the same organization reads nothing,
    and nothing has to be written between two changes. License versions are written by
    `write` (the unit of work's flush) without the ORM, whatever their number in one UPDATE
    (the superseded versions' status) and one INSERT given all the new versions (the
    driver's pipelined executemany); its reads write first, so they see this transaction's
    versions."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._current: dict[tuple[str, str], _Head | None] = {}  # None: known to be none
        self._issued: dict[tuple[str, str], License] = {}  # the newest issued here
        self._loaded: set[str] = set()  # organizations whose current licenses were all read
        self._superseded: list[str] = []  # ids to mark superseded
        self._new: dict[str, License] = {}  # versions to insert, by id

    def add(self, item: License | OfflineActivation) -> None:
        if not isinstance(item, License):
            self.session.add(item)
            return
        key = (item.organization_id, item.license_type)
        self._new[item.id] = item
        self._issued[key] = item
        current = item.status == LicenseStatus.CURRENT
        self._current[key] = (
            _Head(
                item.id,
                item.version,
                item.interval,
                item.cause,
                item.seats,
                item.tier,
                tuple(item.features),
                item.valid_until,
            )
            if current
            else None
        )

    def write(self) -> None:
        """Write the superseded and the new versions (after the organizations they belong to
        were flushed)."""
        if self._superseded:
            ids, self._superseded = self._superseded, []
            self.session.execute(
                update(licenses)
                .where(among(self.session, licenses.c.id, ids))
                .values(status=LicenseStatus.SUPERSEDED.value)
            )
        if self._new:
            new, self._new = list(self._new.values()), {}
            # A mapped dataclass keeps its fields in its __dict__: read there, not through the
            # mapping's instrumented attributes, one lookup per column and row.
            rows = [{c: fields[c] for c in _LICENSE_COLUMNS} for fields in map(vars, new)]
            insert_all(self.session, licenses, rows)

    def load_current(self, organization_ids: Iterable[str]) -> None:
        """Read the current licenses of these organizations in one query (a batch's)."""
        wanted = sorted(set(organization_ids) - self._loaded)
        if not wanted:
            return
        query = select(licenses.c.organization_id, licenses.c.license_type, *_HEAD_COLUMNS).where(
            among(self.session, licenses.c.organization_id, wanted),
            licenses.c.status == LicenseStatus.CURRENT.value,
        )
        for org_id, license_type, *head in self.session.execute(query):
            self._current.setdefault((org_id, license_type), _Head(*head))
        self._loaded.update(wanted)

    def _current_of(self, organization_id: str, license_type: str) -> _Head | None:
        key = (organization_id, license_type)
        if key not in self._current and organization_id not in self._loaded:
            query = select(*_HEAD_COLUMNS).where(
                licenses.c.organization_id == organization_id,
                licenses.c.license_type == license_type,
                licenses.c.status == LicenseStatus.CURRENT.value,
            )
            row = self.session.execute(query).first()
            self._current[key] = _Head(*row) if row else None
        return self._current.get(key)

    def current_terms(self, organization_id: str, license_type: str) -> LicenseTerms | None:
        """What the current (not revoked) license grants, or None if there is none."""
        head = self._current_of(organization_id, license_type)
        if head is None:
            return None
        features = tuple(head.features)
        return LicenseTerms(
            head.seats, head.interval, head.tier, features, head.valid_until, revoked=False
        )

    def supersede_current(
        self, organization_id: str, license_type: str, cause: str
    ) -> tuple[int, str] | None:
        """Mark the current license superseded unless `cause` issued it; its (version,
        interval), or None when no current license of another cause exists."""
        current = self._current_of(organization_id, license_type)
        if current is None or current.cause == cause:
            return None
        issued = self._issued.get((organization_id, license_type))
        if issued is not None and issued.id == current.id:
            issued.status = LicenseStatus.SUPERSEDED.value  # inserted so, if not written yet
        if current.id not in self._new:
            self._superseded.append(current.id)
        self._current[(organization_id, license_type)] = None
        return current.version, current.interval

    def current(self, organization_id: str, license_type: str) -> License | None:
        """The newest version, whatever its status."""
        issued = self._issued.get((organization_id, license_type))
        if issued is not None:
            return issued
        query = (
            select(licenses)
            .where(
                licenses.c.organization_id == organization_id,
                licenses.c.license_type == license_type,
            )
            .order_by(licenses.c.version.desc())
            .limit(1)
        )
        return next(iter(self._read(query)), None)

    def forget(self) -> None:
        """The transaction was rolled back: what was remembered is no longer true, and what
        was not written yet never happened."""
        self._current.clear()
        self._issued.clear()
        self._loaded.clear()
        self._superseded.clear()
        self._new.clear()

    def _read(self, query: Any) -> list[License]:
        """Licenses read after this transaction's versions are written (and the organizations
        they belong to before them), as they now are: plain values, not mapped objects."""
        self.session.flush()
        self.write()
        return [_license(row._mapping) for row in self.session.execute(query)]

    def history(self, organization_id: str) -> list[License]:
        query = (
            select(licenses)
            .where(licenses.c.organization_id == organization_id)
            .order_by(licenses.c.license_type, licenses.c.version.desc())
        )
        return self._read(query)

    def get(self, organization_id: str, license_id: str) -> License | None:
        query = select(licenses).where(licenses.c.id == license_id)
        found = next(iter(self._read(query)), None)
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

    # -- retention: released activations whose file ran out long ago --------------------------

    def count_released_expired_before(self, cutoff: datetime) -> int:
        query = select(func.count()).where(*_released_expired_before(cutoff))
        return int(self.session.scalar(query) or 0)

    def delete_released_expired_before(self, cutoff: datetime, limit: int) -> int:
        """Delete up to `limit` released activations whose file expired before `cutoff`."""
        ids = select(offline_activations.c.id).where(*_released_expired_before(cutoff))
        statement = delete(offline_activations).where(
            offline_activations.c.id.in_(ids.limit(limit))
        )
        return int(self.session.execute(statement).rowcount)  # type: ignore[attr-defined]


def _released_expired_before(cutoff: datetime) -> tuple[Any, ...]:
    # A released activation holds its seat until its file expires; after that it holds
    # nothing, and is history only.
    return (
        offline_activations.c.status == ActivationStatus.RELEASED.value,
        offline_activations.c.expires_at < cutoff,
    )
