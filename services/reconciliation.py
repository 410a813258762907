"""Scheduled reconciliation: find drift before a customer does, repair it, record it.

- estimate drift: estimate vs. computed charge vs. what Stripe took, per applied upgrade;
  expired estimates become `stale`.
- Stripe state drift: every subscription of a known customer, page by page, compared with
  local state; local state is repaired from Stripe, or an applied upgrade Stripe lacks is
  pushed again (same idempotency key).
- missed events and stuck sagas: see services/recovery.py.

Every job takes `dry_run`: it then reports what it would change and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from config.tasks import PUSH_UPGRADE
from domain.admission import ListedSubscription
from domain.model import ENDED_STATUSES, SubscriptionSnapshot
from domain.ports import UnitOfWork
from domain.reconciliation_jobs import JOBS as RECONCILIATION_JOBS
from domain.reconciliation_jobs import Summary
from services import messagebus, recovery, stripe_events
from services.deps import Deps
from services.upgrades import renewal_sync

Progress = Callable[[str, int, "int | None"], None]  # (kind, checked so far, total if known)
PageProgress = Callable[[str, int], None]
log = logging.getLogger(__name__)


# -- estimate drift ------------------------------------------------------------------------


def estimate_drift(uow: UnitOfWork, deps: Deps, summary: Summary, dry_run: bool) -> None:
    now = deps.clock.now()
    with uow:
        for row in uow.reconciliation.unrecorded_estimate_drift():
            summary.add(summary.checked, "estimate")
            drift = row.estimate_amount - (row.charged_amount or 0)
            flagged = row.paid_amount is not None and row.paid_amount != row.charged_amount
            minutes = int((row.created_at - row.computed_at).total_seconds() // 60)
            cause = (
                "stripe charged another amount than computed"
                if flagged
                else f"{minutes} min between estimate and charge"
                if drift
                else "none"
            )
            if drift or flagged:
                summary.add(summary.drift, "estimate")
            summary.flagged += flagged
            if not dry_run:
                uow.drift.record(
                    now,
                    kind="estimate",
                    organization_id=row.organization_id,
                    subject=row.id,
                    cause=cause,
                    estimate_amount=row.estimate_amount,
                    charged_amount=row.charged_amount,
                    paid_amount=row.paid_amount,
                    currency=row.currency,
                    minutes_between=minutes,
                    flagged=flagged,
                )
        if not dry_run:
            summary.add(summary.repaired, "stale estimates", uow.upgrades.expire_estimates(now))
            uow.commit()


# -- Stripe state drift --------------------------------------------------------------------


def stripe_drift(
    uow: UnitOfWork,
    deps: Deps,
    summary: Summary,
    dry_run: bool,
    org_id: str | None = None,
    progress: PageProgress | None = None,
) -> None:
    """Compare every Stripe subscription of a known customer with local state, a page at a
    time; each page is one read of local rows and one commit."""
    customer = None
    if org_id:
        with uow:
            org = uow.organizations.get(org_id)
            customer = org.stripe_customer_id if org else None
            if customer is None:
                return
    seen: set[str] = set()
    version = int(deps.clock.now().timestamp())
    pages = deps.door.subscriptions(customer=customer, version=version)
    for page in pages:
        summary.add(summary.read, "stripe_state", len(page))
        summary.add(summary.pages, "stripe_state")
        _compare_page(uow, deps, summary, dry_run, page)
        _flag_unknown(uow, deps, summary, dry_run, page)
        _flag_unrepresentable(uow, deps, summary, dry_run, page)
        seen.update(item.id for item in page)
        if progress:
            progress("stripe_state", summary.read["stripe_state"])
    _flag_gone(uow, deps, summary, dry_run, seen, org_id)


def _flag(
    uow: UnitOfWork, deps: Deps, summary: Summary, dry_run: bool, found: dict[str, str], why: str
) -> None:
    """Flag each subject (Stripe subscription id → organization id) once: a person decides
    what it should be; nothing is changed for it."""
    summary.add(summary.drift, "stripe_state", len(found))
    with uow:
        new = set(found) - uow.drift.flagged_subjects("stripe_state", found)
        if dry_run or not new:
            return
        for subject in sorted(new):
            uow.drift.record(
                deps.clock.now(),
                kind="stripe_state",
                organization_id=found[subject],
                subject=subject,
                cause=why,
                flagged=True,
                repaired=False,
            )
        uow.commit()


def _flag_unknown(
    uow: UnitOfWork, deps: Deps, summary: Summary, dry_run: bool, page: list[ListedSubscription]
) -> None:
    """Live Stripe subscriptions of a known customer that seatflow has no row for."""
    live = {
        item.id: item.customer_id
        for item in page
        if item.status not in ENDED_STATUSES and item.customer_id
    }
    if not live:
        return
    with uow:
        known = set(uow.subscriptions.live_stripe_ids()) | {
            row.stripe_subscription_id for row in uow.subscriptions.compared_columns(live)
        }
        orgs = uow.subscriptions.organizations_of_customers({c for c in live.values() if c})
    found = {
        sub_id: orgs[customer]
        for sub_id, customer in live.items()
        if sub_id not in known and customer and customer in orgs
    }
    if found:
        _flag(
            uow, deps, summary, dry_run, found, "seatflow has no such subscription of this customer"
        )


def _flag_unrepresentable(
    uow: UnitOfWork, deps: Deps, summary: Summary, dry_run: bool, page: list[ListedSubscription]
) -> None:
    """Local subscriptions that Stripe now bills in a way seatflow cannot represent (a price
    every 3 months): flagged, never taken as something else."""
    refused = {item.id: item.refused for item in page if item.refused}
    if not refused:
        return
    with uow:
        local = uow.subscriptions.live_stripe_ids()
    found = {sub_id: local[sub_id] for sub_id in refused if sub_id in local}
    if found:
        _flag(
            uow, deps, summary, dry_run, found, "Stripe bills it in a way seatflow cannot represent"
        )


def _flag_gone(
    uow: UnitOfWork,
    deps: Deps,
    summary: Summary,
    dry_run: bool,
    seen: set[str],
    org_id: str | None,
) -> None:
    """Local subscriptions still live that Stripe no longer lists (deleted there)."""
    with uow:
        local = uow.subscriptions.live_stripe_ids(org_id)
    gone = {sub_id: org for sub_id, org in local.items() if sub_id not in seen}
    if gone:
        _flag(uow, deps, summary, dry_run, gone, "Stripe has no such subscription")


def _stripe_view(snap: SubscriptionSnapshot) -> dict[str, Any]:
    return {
        "seats": snap.seats,
        "interval": snap.interval.value,
        "status": snap.status,
        "price": snap.stripe_price_id,
        "period_end": snap.current_period_end.isoformat(),
    }


def _compare_page(
    uow: UnitOfWork, deps: Deps, summary: Summary, dry_run: bool, page: list[ListedSubscription]
) -> None:
    """One query reads the page's local rows; only drifted ones load (and lock) their
    organization, so 100,000 subscriptions cost 1,000 reads plus the repairs."""
    now = deps.clock.now()
    by_id = {item.id: item.snapshot for item in page if item.snapshot is not None}
    with uow:
        local = uow.subscriptions.compared_columns(by_id)
        summary.add(summary.checked, "stripe_state", len(local))
        for row in local:
            before = {
                "seats": row.seats,
                "interval": row.interval,
                "status": row.status,
                "price": row.stripe_price_id,
                "period_end": row.current_period_end.isoformat(),
            }
            after = _stripe_view(by_id[row.stripe_subscription_id])
            if before != after:
                summary.add(summary.drift, "stripe_state")
                if not dry_run:
                    _repair(
                        uow,
                        now,
                        summary,
                        row.organization_id,
                        row.stripe_subscription_id,
                        by_id,
                        before,
                        after,
                    )
        if not dry_run:
            messagebus.commit(uow, deps)  # a repair issues the license of the repaired state


def _repair(
    uow: UnitOfWork,
    now: datetime,
    summary: Summary,
    organization_id: str,
    stripe_id: str,
    by_id: dict[str, SubscriptionSnapshot],
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    org = uow.organizations.get(organization_id, lock=True)
    sub = org.subscription_by_stripe_id(stripe_id) if org else None
    if org is None or sub is None:
        return
    pending = uow.upgrades.unpushed_applied(organization_id, sub.license_type)
    if pending is not None:
        cause = f"Stripe lacks applied upgrade {pending}: pushed again"
        uow.enqueue_after_commit(PUSH_UPGRADE, [pending])
    else:
        cause = "local state repaired from Stripe"
        snapshot = by_id[stripe_id]
        if not snapshot.license_type:
            snapshot = _with_catalog_type(uow, snapshot, sub.license_type)
        org.sync_subscription(stripe_events.with_catalog_tier(snapshot, uow.catalog.load()))
    summary.add(summary.repaired, "stripe_state")
    uow.drift.record(
        now,
        kind="stripe_state",
        organization_id=organization_id,
        subject=stripe_id,
        cause=cause,
        before=before,
        after=after,
        repaired=True,
    )


def _with_catalog_type(uow: UnitOfWork, snapshot: Any, fallback: str) -> Any:
    from dataclasses import replace

    price = uow.catalog.load().by_stripe_price(snapshot.stripe_price_id)
    return replace(snapshot, license_type=price.license_type if price else fallback)


JOBS = tuple(job.name for job in RECONCILIATION_JOBS)


def _job(
    name: str,
    summary: Summary,
    work: Callable[[], Any],
    progress: Progress | None,
    kind: str,
    explain: Callable[[BaseException], str | None],
) -> None:
    """One job; its failure is recorded in the summary and the next job still runs. A job
    that found nothing still has its row (of zeros)."""
    summary.add(summary.checked, kind, 0)
    try:
        work()
    except Exception as error:
        reason = explain(error) or f"{type(error).__name__}: {error}"
        log.warning("reconciliation job %s failed: %s", name, reason)
        summary.failed[name] = reason
    if progress:  # done: its total is what it did, when it was not known before
        done = _done(summary, kind)
        progress(kind, done, done)


def _done(summary: Summary, kind: str) -> int:
    """What a job's progress counts: what it read from Stripe, else what it checked."""
    return summary.read.get(kind, summary.checked.get(kind, 0))


def run_all(
    uow: UnitOfWork,
    deps: Deps,
    *,
    dry_run: bool = False,
    org_id: str | None = None,
    since: datetime | None = None,
    progress: Progress | None = None,
    jobs: Iterable[str] = JOBS,
) -> Summary:
    """Every chosen job, each even when an earlier one failed (`summary.failed` says which).
    `progress(kind, done, total)`: for the Stripe-state job, the subscriptions read from
    Stripe so far (Stripe's lists give no total, so None); for the others what they checked."""
    summary = Summary()
    chosen = set(jobs) - ({"missed_events"} if org_id else set())

    def page_done(kind: str, read: int) -> None:
        if progress:
            progress(kind, read, None)

    runs: dict[str, Callable[[], Any]] = {
        "estimate": lambda: estimate_drift(uow, deps, summary, dry_run),
        "scheduled_changes": lambda: renewal_sync.schedule_drift(uow, deps, summary, dry_run),
        "stripe_state": lambda: stripe_drift(uow, deps, summary, dry_run, org_id, page_done),
        "missed_events": lambda: recovery.missed_events(uow, deps, summary, dry_run, since),
        "sagas": lambda: recovery.stuck_sagas(uow, deps, summary, dry_run),
    }
    for job in RECONCILIATION_JOBS:
        if job.name in chosen:
            _job(job.name, summary, runs[job.name], progress, job.progress, deps.explain)
    return summary
