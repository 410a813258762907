"""The upgrades repository: estimates, upgrades and the queries of their saga."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from adapters.orm import estimates, upgrade_transitions, upgrades
from domain.discounts import canonical_code
from domain.upgrades import OPEN_STATES, Estimate, Upgrade, UpgradeState

S = UpgradeState


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

    def refresh(self, upgrade: Upgrade) -> None:
        """Read the upgrade again (after its organization's lock was granted)."""
        self.session.refresh(upgrade)

    def stuck_since(self, cutoff: datetime) -> list[tuple[str, str, str]]:
        """(id, invoice id, organization id) of upgrades charging or awaiting payment of an
        invoice, untouched since `cutoff`."""
        query = select(upgrades.c.id, upgrades.c.stripe_invoice_id, upgrades.c.organization_id)
        query = query.where(
            upgrades.c.state.in_(
                [S.CHARGING.value, S.AWAITING_PAYMENT.value, S.REQUIRES_ACTION.value]
            ),
            upgrades.c.updated_at < cutoff,
            upgrades.c.stripe_invoice_id.isnot(None),
        )
        return [(row[0], row[1], row[2]) for row in self.session.execute(query)]

    def unpushed_applied(self, organization_id: str, license_type: str) -> str | None:
        """The applied upgrade of this license type that Stripe has not been told about."""
        query = select(upgrades.c.id).where(
            upgrades.c.organization_id == organization_id,
            upgrades.c.license_type == license_type,
            upgrades.c.state == S.APPLIED.value,
            upgrades.c.stripe_synced_at.is_(None),
        )
        return self.session.scalar(query)

    def expire_estimates(self, now: datetime) -> int:
        """Open estimates past their expiry become `stale`; how many did."""
        statement = (
            update(estimates)
            .where(estimates.c.status == "open", estimates.c.expires_at < now)
            .values(status="stale")
        )
        return int(getattr(self.session.execute(statement), "rowcount", 0))

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
                # Paid for after it was canceled or superseded: the refund is due.
                upgrades.c.state.in_([S.CANCELED.value, S.EXPIRED.value])
                & upgrades.c.paid_amount.is_not(None)
                & upgrades.c.refunded_amount.is_(None)
                & (upgrades.c.updated_at < cutoff),
                # Canceled while its charge was under way, its invoice not yet known voided:
                # the claim the charge held is kept until it is (see charge.settle_canceled).
                (upgrades.c.state == S.CANCELED.value)
                & upgrades.c.retry_at.is_not(None)
                & (upgrades.c.retry_at < cutoff),
            )
        )
        return [(row[0], row[1]) for row in self.session.execute(query)]

    def reserved(self, code: str, other_than: str | None = None) -> int:
        """Redemptions of seatflow's own discount code held by upgrades not yet paid or
        given up (an upgrade with a Stripe promotion code of the same text holds none)."""
        query = select(func.count()).where(
            func.upper(upgrades.c.discount_code) == canonical_code(code),
            upgrades.c.promotion_code_id.is_(None),
            upgrades.c.state.in_([s.value for s in OPEN_STATES]),
            upgrades.c.id != (other_than or ""),
        )
        return int(self.session.scalar(query) or 0)

    # -- the leading beat's gauges -------------------------------------------------------

    def count_by_state(self) -> dict[str, int]:
        """Upgrades in each state that has any."""
        query = select(upgrades.c.state, func.count()).group_by(upgrades.c.state)
        return {str(state): int(n) for state, n in self.session.execute(query)}

    def count_transitions_by_state(self) -> dict[str, int]:
        """State changes ever recorded, by the state entered."""
        to_state = upgrade_transitions.c.to_state
        query = select(to_state, func.count()).group_by(to_state)
        return {str(state): int(n) for state, n in self.session.execute(query)}
