"""What an operator runs and reads: Stripe onboarding (the webhook endpoint) and the
operator pages' view of the inbox, dead events and reconciliation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from config.events import HANDLED_EVENT_TYPES, STRIPE_API_VERSION
from domain.ports import UnitOfWork, WebhookEndpoints
from inbox.states import PENDING_STATES, InboxState


@dataclass(frozen=True)
class WebhookSetup:
    endpoint_id: str
    created: bool
    secret: str | None  # shown by Stripe once, on creation
    api_version: str | None  # the version the endpoint renders events in


def setup_webhook(stripe: WebhookEndpoints, url: str) -> WebhookSetup:
    """Create the endpoint for `url`, or bring the one Stripe has for it up to date: exactly
    the event types seatflow handles, in the API version it parses."""
    events = sorted(HANDLED_EVENT_TYPES)
    found = next((e for e in stripe.webhook_endpoints() if e.url == url), None)
    if found is None:
        made = stripe.create_webhook_endpoint(url, events, STRIPE_API_VERSION)
        return WebhookSetup(made.id, True, made.secret, made.api_version)
    stripe.update_webhook_endpoint(found.id, url, events)
    return WebhookSetup(found.id, False, None, found.api_version)


# -- the operator pages ------------------------------------------------------------------


@dataclass(frozen=True)
class InboxView:
    counts: dict[str, int]  # every inbox state
    oldest_unapplied_age: timedelta | None  # None: nothing waits
    dead: list[dict[str, Any]]  # newest first, with their last error


def inbox_view(uow: UnitOfWork, now: datetime, dead_limit: int = 200) -> InboxView:
    with uow:
        counts = uow.inbox.counts_by_state()
        oldest = uow.inbox.oldest_received(s.value for s in PENDING_STATES)
        dead = uow.inbox.listing(InboxState.DEAD.value, dead_limit)
    age = max(now - oldest, timedelta(0)) if oldest is not None else None
    return InboxView(counts, age, dead)


@dataclass(frozen=True)
class Run:
    """One reconciliation run, as the drift records it wrote show it."""

    started_at: datetime
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def repaired(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("repaired")]


# A run's jobs write their records within seconds of each other; runs are minutes apart
# (RECONCILE_INTERVAL_SECONDS), so a longer pause starts another run.
RUN_GAP = timedelta(minutes=2)


def group_runs(rows: Iterable[dict[str, Any]], limit: int, gap: timedelta = RUN_GAP) -> list[Run]:
    """Drift records (newest first) grouped into runs, newest first; at most `limit` runs."""
    runs: list[Run] = []
    for row in rows:
        at: datetime = row["created_at"]
        if not runs or runs[-1].started_at - at > gap:
            if len(runs) == limit:
                break
            runs.append(Run(at))
        runs[-1].records.append(row)
        runs[-1] = Run(at, runs[-1].records)  # the run started at its earliest record
    return runs


@dataclass(frozen=True)
class DriftPoint:
    at: datetime
    subject: str
    cents: int  # charged minus estimated: above 0, the customer paid more
    currency: str | None


@dataclass(frozen=True)
class ReconciliationView:
    drift: list[DriftPoint]  # oldest first
    runs: list[Run]


def reconciliation_view(uow: UnitOfWork, runs: int = 10, points: int = 500) -> ReconciliationView:
    with uow:
        estimates = uow.drift.rows("estimate", points)
        records = uow.drift.rows(None, 2000)
    drift = [
        DriftPoint(
            r["created_at"],
            r["subject"],
            (r["charged_amount"] or 0) - (r["estimate_amount"] or 0),
            r["currency"],
        )
        for r in reversed(estimates)
        if r["charged_amount"] is not None
    ]
    return ReconciliationView(drift, group_runs(records, runs))
