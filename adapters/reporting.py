"""What reconciliation reads to compare: applied upgrades against their estimates, and the
columns of local subscriptions that Stripe also knows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.orm import drift_records, estimates, organizations, subscriptions, upgrades
from domain.model import ENDED_STATUSES
from domain.ports import AppliedEstimate, ComparedSubscription
from domain.upgrades import UpgradeState


class SqlReconciliationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def unrecorded_estimate_drift(self) -> list[AppliedEstimate]:
        """Applied upgrades whose estimate drift has not been recorded yet."""
        recorded = select(drift_records.c.subject).where(drift_records.c.kind == "estimate")
        query = (
            select(
                upgrades.c.id,
                upgrades.c.organization_id,
                upgrades.c.estimate_amount,
                upgrades.c.charged_amount,
                upgrades.c.paid_amount,
                upgrades.c.currency,
                estimates.c.computed_at,
                upgrades.c.created_at,
            )
            .join(estimates, estimates.c.id == upgrades.c.estimate_id)
            .where(upgrades.c.state == UpgradeState.APPLIED.value, upgrades.c.id.notin_(recorded))
        )
        return [AppliedEstimate(**row._mapping) for row in self.session.execute(query)]


class SqlSubscriptionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def versions(self, stripe_ids: Iterable[str]) -> dict[str, int]:
        """The version (newest Stripe event applied) of each of these subscriptions seatflow
        holds."""
        query = select(subscriptions.c.stripe_subscription_id, subscriptions.c.stripe_version)
        query = query.where(subscriptions.c.stripe_subscription_id.in_(list(stripe_ids)))
        return {row[0]: int(row[1]) for row in self.session.execute(query)}

    def organizations_of_customers(self, customers: Iterable[str]) -> dict[str, str]:
        """The organization id of each of these Stripe customers seatflow knows."""
        query = select(organizations.c.stripe_customer_id, organizations.c.id).where(
            organizations.c.stripe_customer_id.in_(list(customers))
        )
        return {row[0]: row[1] for row in self.session.execute(query)}

    def live_stripe_ids(self, organization_id: str | None = None) -> dict[str, str]:
        """Stripe id → organization id of every local subscription that has not ended."""
        query = select(subscriptions.c.stripe_subscription_id, subscriptions.c.organization_id)
        query = query.where(
            subscriptions.c.stripe_subscription_id.is_not(None),
            subscriptions.c.status.not_in(sorted(ENDED_STATUSES)),
        )
        if organization_id:
            query = query.where(subscriptions.c.organization_id == organization_id)
        return {row[0]: row[1] for row in self.session.execute(query)}

    def compared_columns(self, stripe_ids: Iterable[str]) -> list[ComparedSubscription]:
        """The local subscriptions among these Stripe subscription ids, one query."""
        columns = (subscriptions.c[f.name] for f in fields(ComparedSubscription))
        query = select(*columns).where(subscriptions.c.stripe_subscription_id.in_(list(stripe_ids)))
        return [ComparedSubscription(**row._mapping) for row in self.session.execute(query)]
