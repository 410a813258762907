"""The repositories of `domain.ports` in memory: what each SQL query answers, from lists and
dicts (the tests of adapters/ check the SQL against the same answers)."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from adapters import drift as drift_export
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
from domain.model import ENDED_STATUSES, LedgerEntry, Member, Organization
from domain.payment_methods import CardOnFile, Receipt
from domain.ports import AppliedEstimate, ComparedSubscription
from domain.renewal import PENDING, ChangeState, ScheduledChange
from domain.upgrades import OPEN_STATES, UNPAID_STATES, Estimate, Upgrade, UpgradeState

S = UpgradeState


class FakeOrganizations:
    def __init__(self, organizations: Iterable[Organization] = ()) -> None:
        self._by_id = {org.id: org for org in organizations}
        self.seen: list[Organization] = []
        self.ledger: list[tuple[str, LedgerEntry]] = []  # (organization id, entry), appended
        self.locked_customers: list[str] = []

    def _see(self, org: Organization | None) -> Organization | None:
        if org is not None and org not in self.seen:
            self.seen.append(org)
        return org

    def add(self, organization: Organization) -> None:
        self._by_id[organization.id] = organization
        self._see(organization)

    def get(self, organization_id: str, *, lock: bool = False) -> Organization | None:
        return self._see(self._by_id.get(organization_id))

    def locked(self, organization_id: str) -> Organization:
        org = self.get(organization_id, lock=True)
        if org is None:
            raise OrganizationNotFound(f"no organization {organization_id!r}")
        return org

    def get_by_customer(self, customer_id: str, *, lock: bool = False) -> Organization | None:
        found = (o for o in self._by_id.values() if o.stripe_customer_id == customer_id)
        return self._see(next(found, None))

    def list(self) -> Sequence[Organization]:
        return sorted(self._by_id.values(), key=lambda o: o.id)

    def lock_customers(self, customer_ids: Iterable[str]) -> None:
        for customer_id in sorted(set(customer_ids)):
            if self.get_by_customer(customer_id) is not None:
                self.locked_customers.append(customer_id)

    def flush_ledgers(self) -> None:
        """As the SQL repository writes them: the entries an aggregate appended, moved out."""
        for org in self.seen:
            self.ledger += [(org.id, entry) for entry in org.ledger]
            org.ledger = []

    def all(self) -> builtins.list[Organization]:
        return list(self._by_id.values())


class FakeCatalog:
    """Prices by (license type, tier, interval), as the table's unique index has them."""

    def __init__(self, prices: Iterable[CatalogPrice] = (), discounts: Iterable[Discount] = ()):
        self.prices: dict[tuple[str, str, str], CatalogPrice] = {}
        for price in prices:
            self.put(price)
        self.discounts = {d.code: d for d in discounts}

    def load(self) -> Catalog:
        return Catalog(self.prices.values())

    def put(self, price: CatalogPrice) -> None:
        self.prices[(price.license_type, price.tier, price.interval)] = price

    def discount(self, code: str, *, lock: bool = False) -> Discount | None:
        wanted = canonical_code(code)
        return next((d for d in self.discounts.values() if d.code.upper() == wanted), None)

    def add_discount(self, discount: Discount) -> None:
        self.discounts[discount.code] = discount

    def all_discounts(self) -> list[Discount]:
        return sorted(self.discounts.values(), key=lambda d: d.code)

    def remove(self, stripe_price_id: str) -> CatalogPrice | None:
        for key, price in list(self.prices.items()):
            if price.stripe_price_id == stripe_price_id:
                return self.prices.pop(key)
        return None

    def clear(self) -> int:
        count = len(self.prices)
        self.prices.clear()
        return count


class FakeMembers:
    def __init__(self, members: Iterable[Member] = ()) -> None:
        self.by_id = {m.id: m for m in members}
        # Tokens as the table holds them: id, member, hash, created, expires, revoked.
        self.token_rows: list[dict[str, Any]] = []

    def add(self, member: Member) -> None:
        self.by_id[member.id] = member

    def get(self, member_id: str) -> Member | None:
        return self.by_id.get(member_id)

    def add_token(self, member_id: str, token_hash: str, now: datetime) -> None:
        self.add_expiring_token(member_id, token_hash, now, None)

    def add_expiring_token(
        self, member_id: str, token_hash: str, now: datetime, expires_at: datetime | None
    ) -> int:
        token_id = len(self.token_rows) + 1
        self.token_rows.append(
            {
                "id": token_id,
                "member_id": member_id,
                "token_hash": token_hash,
                "created_at": now,
                "expires_at": expires_at,
                "revoked_at": None,
            }
        )
        return token_id

    def valid_token(self, token_hash: str, now: datetime) -> tuple[Member, datetime | None] | None:
        for row in self.token_rows:
            live = row["expires_at"] is None or row["expires_at"] > now
            if row["token_hash"] == token_hash and row["revoked_at"] is None and live:
                return self.by_id[row["member_id"]], row["expires_at"]
        return None

    def revoke_token(self, token_id: int, now: datetime) -> str | None:
        for row in self.token_rows:
            if row["id"] == token_id and row["revoked_at"] is None:
                row["revoked_at"] = now
                return str(row["member_id"])
        return None

    def of_organization(self, organization_id: str) -> list[Member]:
        found = [m for m in self.by_id.values() if m.organization_id == organization_id]
        return sorted(found, key=lambda m: m.email)

    def tokens(self, organization_id: str) -> list[dict[str, Any]]:
        columns = ("id", "member_id", "created_at", "expires_at", "revoked_at")
        return [
            {c: row[c] for c in columns} | {"email": self.by_id[row["member_id"]].email}
            for row in self.token_rows
            if self.by_id[row["member_id"]].organization_id == organization_id
        ]


class FakeLicenses:
    """Licenses in a list, with the same supersede rule as the table's partial index."""

    def __init__(self) -> None:
        self.items: list[License] = []
        self.offline: list[OfflineActivation] = []
        self.loaded: list[str] = []  # organizations whose current licenses were read at once

    def add(self, item: License | OfflineActivation) -> None:
        if isinstance(item, License):
            self.items.append(item)
        else:
            self.offline.append(item)

    def _of(self, organization_id: str, license_type: str) -> list[License]:
        return [
            x
            for x in self.items
            if (x.organization_id, x.license_type) == (organization_id, license_type)
        ]

    def supersede_current(
        self, organization_id: str, license_type: str, cause: str
    ) -> tuple[int, str] | None:
        for item in self._of(organization_id, license_type):
            if item.status == LicenseStatus.CURRENT and item.cause != cause:
                item.status = LicenseStatus.SUPERSEDED.value
                return item.version, item.interval
        return None

    def current(self, organization_id: str, license_type: str) -> License | None:
        return max(self._of(organization_id, license_type), key=lambda x: x.version, default=None)

    def current_terms(self, organization_id: str, license_type: str) -> LicenseTerms | None:
        found = [
            x for x in self._of(organization_id, license_type) if x.status == LicenseStatus.CURRENT
        ]
        return found[0].terms if found else None

    def history(self, organization_id: str) -> list[License]:
        mine = [x for x in self.items if x.organization_id == organization_id]
        return sorted(mine, key=lambda x: (x.license_type, -x.version))

    def get(self, organization_id: str, license_id: str) -> License | None:
        return next((x for x in self.history(organization_id) if x.id == license_id), None)

    def activations(
        self, organization_id: str, license_type: str | None = None, active_only: bool = False
    ) -> list[OfflineActivation]:
        found = [
            a
            for a in self.offline
            if a.organization_id == organization_id
            and (license_type is None or a.license_type == license_type)
            and (a.active or not active_only)
        ]
        return sorted(found, key=lambda a: a.issued_at)

    def activation(self, organization_id: str, activation_id: str) -> OfflineActivation | None:
        found = (a for a in self.activations(organization_id) if a.id == activation_id)
        return next(found, None)

    def load_current(self, organization_ids: Iterable[str]) -> None:
        self.loaded += sorted(set(organization_ids))

    def _released_expired_before(self, cutoff: datetime) -> list[OfflineActivation]:
        return [
            a
            for a in self.offline
            if a.status == ActivationStatus.RELEASED.value and a.expires_at < cutoff
        ]

    def count_released_expired_before(self, cutoff: datetime) -> int:
        return len(self._released_expired_before(cutoff))

    def delete_released_expired_before(self, cutoff: datetime, limit: int) -> int:
        gone = self._released_expired_before(cutoff)[:limit]
        self.offline = [a for a in self.offline if a not in gone]
        return len(gone)


class FakeUpgrades:
    def __init__(self) -> None:
        self.estimates: dict[str, Estimate] = {}
        self.items: dict[str, Upgrade] = {}
        self.refreshed: list[str] = []

    def add_estimate(self, estimate: Estimate) -> None:
        self.estimates[estimate.id] = estimate

    def estimate(self, organization_id: str, estimate_id: str) -> Estimate | None:
        found = self.estimates.get(estimate_id)
        return found if found and found.organization_id == organization_id else None

    def add(self, upgrade: Upgrade) -> None:
        self.items[upgrade.id] = upgrade

    def get(self, upgrade_id: str, *, lock: bool = False) -> Upgrade | None:
        return self.items.get(upgrade_id)

    def for_organization(self, organization_id: str, upgrade_id: str) -> Upgrade | None:
        found = self.get(upgrade_id)
        return found if found and found.organization_id == organization_id else None

    def _where(self, **equal: Any) -> list[Upgrade]:
        return [u for u in self.items.values() if all(getattr(u, k) == v for k, v in equal.items())]

    def by_idempotency_key(self, organization_id: str, key: str) -> Upgrade | None:
        return next(iter(self._where(organization_id=organization_id, idempotency_key=key)), None)

    def by_invoice(self, invoice_id: str) -> Upgrade | None:
        return next(iter(self._where(stripe_invoice_id=invoice_id)), None)

    def open_for(self, organization_id: str, license_type: str) -> Upgrade | None:
        mine = self._where(organization_id=organization_id, license_type=license_type)
        return next((u for u in mine if u.state in OPEN_STATES), None)

    def unpaid_before(self, cutoff: datetime) -> list[str]:
        return [
            u.id for u in self.items.values() if u.state in UNPAID_STATES and u.created_at < cutoff
        ]

    def refresh(self, upgrade: Upgrade) -> None:
        self.refreshed.append(upgrade.id)  # in memory there is nothing newer to read

    def stuck_since(self, cutoff: datetime) -> list[tuple[str, str, str]]:
        waiting = {S.CHARGING, S.AWAITING_PAYMENT, S.REQUIRES_ACTION}
        return [
            (u.id, u.stripe_invoice_id, u.organization_id)
            for u in self.items.values()
            if u.state in waiting and u.updated_at < cutoff and u.stripe_invoice_id is not None
        ]

    def unpushed_applied(self, organization_id: str, license_type: str) -> str | None:
        mine = self._where(organization_id=organization_id, license_type=license_type)
        return next(
            (u.id for u in mine if u.state == S.APPLIED and u.stripe_synced_at is None), None
        )

    def expire_estimates(self, now: datetime) -> int:
        stale = [e for e in self.estimates.values() if e.status == "open" and e.expires_at < now]
        for e in stale:
            e.status = "stale"
        return len(stale)

    def failed_with_invoice(
        self, organization_id: str, license_type: str, other_than: str
    ) -> list[tuple[str, str]]:
        mine = self._where(organization_id=organization_id, license_type=license_type)
        return [
            (u.id, u.stripe_invoice_id)
            for u in mine
            if u.state == S.PAYMENT_FAILED and u.stripe_invoice_id and u.id != other_than
        ]

    def stuck(self, cutoff: datetime) -> list[tuple[str, str]]:
        return [(u.id, u.state) for u in self.items.values() if _overdue(u, cutoff)]

    def reserved(self, code: str, other_than: str | None = None) -> int:
        return sum(
            1
            for u in self.items.values()
            if (u.discount_code or "").upper() == canonical_code(code)
            and u.promotion_code_id is None
            and u.state in OPEN_STATES
            and u.id != (other_than or "")
        )


def _overdue(u: Upgrade, cutoff: datetime) -> bool:
    """The SQL repository's `stuck` rule, case by case."""
    untouched = u.updated_at < cutoff
    retry_over = u.retry_at is not None and u.retry_at < cutoff
    return (
        (u.state == S.REQUESTED and untouched)
        or (u.state == S.CHARGING and (retry_over if u.retry_at is not None else untouched))
        or (u.state == S.APPLIED and u.stripe_synced_at is None and untouched)
        or (
            u.state in (S.CANCELED, S.EXPIRED)
            and u.paid_amount is not None
            and u.refunded_amount is None
            and untouched
        )
        or (u.state == S.CANCELED and retry_over)
    )


class FakeScheduledChanges:
    def __init__(self) -> None:
        self.items: dict[str, ScheduledChange] = {}

    def add(self, change: ScheduledChange) -> None:
        self.items[change.id] = change

    def get(self, change_id: str) -> ScheduledChange | None:
        return self.items.get(change_id)

    def refresh(self, change: ScheduledChange) -> None:
        pass  # in memory there is nothing newer to read

    def for_organization(self, organization_id: str, change_id: str) -> ScheduledChange | None:
        found = self.get(change_id)
        return found if found and found.organization_id == organization_id else None

    def of_organization(self, organization_id: str) -> list[ScheduledChange]:
        mine = [c for c in self.items.values() if c.organization_id == organization_id]
        return sorted(mine, key=lambda c: (c.created_at, c.id), reverse=True)

    def _of(self, organization_id: str, license_type: str) -> list[ScheduledChange]:
        return [
            c
            for c in self.items.values()
            if (c.organization_id, c.license_type) == (organization_id, license_type)
        ]

    def pending(self, organization_id: str, license_type: str) -> ScheduledChange | None:
        found = (c for c in self._of(organization_id, license_type) if c.state in PENDING)
        return next(found, None)

    def by_schedule(self, schedule_id: str) -> ScheduledChange | None:
        found = [c for c in self.items.values() if c.stripe_schedule_id == schedule_id]
        return max(found, key=lambda c: c.created_at, default=None)

    def _ended_held(self, c: ScheduledChange) -> bool:
        ended = c.state in (ChangeState.APPLIED, ChangeState.CANCELED)
        return ended and c.stripe_schedule_id is not None and c.stripe_released_at is None

    def release_due(self, organization_id: str, license_type: str) -> list[str]:
        return [c.id for c in self._of(organization_id, license_type) if self._ended_held(c)]

    def waiting_for_stripe(self) -> list[tuple[str, str, str]]:
        return [
            (c.id, c.organization_id, c.stripe_schedule_id)
            for c in self.items.values()
            if c.state == ChangeState.SCHEDULED and c.stripe_schedule_id is not None
        ]

    def stuck(self, cutoff: datetime) -> list[tuple[str, str]]:
        return [
            (c.id, c.state)
            for c in self.items.values()
            if c.updated_at < cutoff and (c.state == ChangeState.SCHEDULING or self._ended_held(c))
        ]


class FakeSubscriptions:
    """Subscriptions across organizations, read through the organizations' aggregates."""

    def __init__(self, organizations: FakeOrganizations) -> None:
        self.organizations = organizations

    def _all(self) -> list[tuple[str, Any]]:
        return [(org.id, sub) for org in self.organizations.all() for sub in org.subscriptions]

    def versions(self, stripe_ids: Iterable[str]) -> dict[str, int]:
        wanted = set(stripe_ids)
        return {
            sub.stripe_subscription_id: sub.stripe_version
            for _, sub in self._all()
            if sub.stripe_subscription_id in wanted
        }

    def organizations_of_customers(self, customers: Iterable[str]) -> dict[str, str]:
        wanted = set(customers)
        return {
            org.stripe_customer_id: org.id
            for org in self.organizations.all()
            if org.stripe_customer_id in wanted
        }

    def live_stripe_ids(self, organization_id: str | None = None) -> dict[str, str]:
        return {
            sub.stripe_subscription_id: org_id
            for org_id, sub in self._all()
            if sub.stripe_subscription_id
            and sub.status not in ENDED_STATUSES
            and organization_id in (None, org_id)
        }

    def compared_columns(self, stripe_ids: Iterable[str]) -> list[ComparedSubscription]:
        wanted = set(stripe_ids)
        return [
            ComparedSubscription(
                sub.stripe_subscription_id,
                org_id,
                sub.seats,
                sub.interval,
                sub.status,
                sub.stripe_price_id,
                sub.current_period_end,
            )
            for org_id, sub in self._all()
            if sub.stripe_subscription_id in wanted
        ]


# The drift record's columns, as the drift export writes them.
DRIFT_COLUMNS = drift_export.COLUMNS


class FakeDrift:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []  # oldest first

    def record(self, now: datetime, **values: Any) -> None:
        for key in ("before", "after"):
            if key in values and not isinstance(values[key], str | None):
                values[key] = json.dumps(values[key], default=str, sort_keys=True)
        unknown = set(values) - set(DRIFT_COLUMNS)
        assert not unknown, f"no drift column {sorted(unknown)}"  # the table would refuse it
        self.records.append(dict.fromkeys(DRIFT_COLUMNS) | values | {"created_at": now})

    def flagged_subjects(self, kind: str, subjects: Iterable[str]) -> set[str]:
        wanted = set(subjects)
        return {
            r["subject"]
            for r in self.records
            if r["kind"] == kind and r["flagged"] and r["subject"] in wanted
        }

    def rows(self, kind: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        newest_first = [r for r in reversed(self.records) if kind in (None, r["kind"])]
        return [dict(r) for r in newest_first[:limit]]

    def kinds(self) -> list[str]:
        return [r["kind"] for r in self.records]


class FakeReconciliation:
    def __init__(self, upgrades: FakeUpgrades, drift: FakeDrift) -> None:
        self.upgrades, self.drift = upgrades, drift

    def unrecorded_estimate_drift(self) -> list[AppliedEstimate]:
        recorded = {r["subject"] for r in self.drift.records if r["kind"] == "estimate"}
        return [
            AppliedEstimate(
                u.id,
                u.organization_id,
                u.estimate_amount,
                u.charged_amount,
                u.paid_amount,
                u.currency,
                self.upgrades.estimates[u.estimate_id].computed_at,
                u.created_at,
            )
            for u in self.upgrades.items.values()
            if u.state == S.APPLIED and u.id not in recorded
        ]


class FakePaymentMethods:
    def __init__(self) -> None:
        self.cards: dict[str, CardOnFile] = {}

    def get(self, organization_id: str) -> CardOnFile | None:
        return self.cards.get(organization_id)

    def put(self, found: CardOnFile) -> None:
        self.cards[found.organization_id] = found


class FakeReceipts:
    def __init__(self) -> None:
        self.kept: dict[str, tuple[str, Receipt]] = {}  # invoice id → (organization, receipt)

    def add(self, organization_id: str, receipt: Receipt) -> bool:
        same_upgrade = any(r.upgrade_id == receipt.upgrade_id for _, r in self.kept.values())
        if receipt.invoice_id in self.kept or same_upgrade:
            return False
        self.kept[receipt.invoice_id] = (organization_id, receipt)
        return True

    def for_upgrade(self, upgrade_id: str) -> Receipt | None:
        return next((r for _, r in self.kept.values() if r.upgrade_id == upgrade_id), None)

    def for_organization(self, organization_id: str) -> dict[str, Receipt]:
        return {
            r.upgrade_id: r
            for org, r in self.kept.values()
            if org == organization_id and r.upgrade_id is not None
        }


class FakeHistory:
    def __init__(self, upgrades: FakeUpgrades) -> None:
        self.upgrades_ = upgrades

    def upgrades(self, organization_id: str, limit: int = 500) -> list[Upgrade]:
        mine = [u for u in self.upgrades_.items.values() if u.organization_id == organization_id]
        return sorted(mine, key=lambda u: (u.created_at, u.id), reverse=True)[:limit]
