"""Recovery jobs of reconciliation: events Stripe never delivered, sagas that stalled.

- missed events: events Stripe failed to deliver, and events newer than the newest one seen,
  are put in the inbox as if delivered (then processed like any other).
- stuck sagas: upgrades charging or awaiting payment too long ask Stripe for the invoice:
  paid → applied, void or uncollectible → expired.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from config.tasks import PROCESS_STRIPE_EVENT
from domain.admission import ListedEvent
from domain.ports import UnitOfWork
from domain.reconciliation_jobs import Summary
from inbox.events import load_payload
from inbox.states import InboxState
from inbox.table import inbox_row
from services import messagebus
from services.deps import Deps
from services.upgrades import payment as upgrade_payment
from services.upgrades import steps as upgrade_steps
from services.upgrades.steps import locked_upgrade

# -- missed events -------------------------------------------------------------------------

WINDOW_MARGIN = timedelta(minutes=5)


def missed_events(
    uow: UnitOfWork, deps: Deps, summary: Summary, dry_run: bool, since: datetime | None = None
) -> list[str]:
    """Put events Stripe failed to deliver, or newer than the newest one seen, in the inbox."""
    with uow:
        newest = uow.inbox.newest_created()
    start = (
        int(since.timestamp())
        if since
        else (newest - int(WINDOW_MARGIN.total_seconds()) if newest else None)
    )
    sources = [deps.door.events(delivery_success=False)]
    if start is not None:
        sources.append(deps.door.events(created_gte=start))
    found: list[str] = []
    for source in sources:
        for page in source:
            found += _insert_missing(uow, deps, summary, dry_run, page)
    return found


def _insert_missing(
    uow: UnitOfWork, deps: Deps, summary: Summary, dry_run: bool, page: list[ListedEvent]
) -> list[str]:
    now = deps.clock.now()
    with uow:
        seen = uow.inbox.known_ids(event.event_id for event in page)
        missing = [event for event in page if event.event_id not in seen]
        summary.add(summary.checked, "events", len(page))
        if missing:
            summary.add(summary.drift, "missed_event", len(missing))
        if dry_run or not missing:
            return [event.event_id for event in missing]
        rows = [inbox_row(load_payload(e.payload), e.payload, now, None) for e in missing]
        uow.inbox.add(rows)
        for row in rows:
            uow.drift.record(
                now,
                kind="missed_event",
                subject=row["event_id"],
                cause=f"{row['type']} was never delivered",
                repaired=True,
            )
            if row["state"] == InboxState.RECEIVED:
                uow.enqueue_after_commit(PROCESS_STRIPE_EVENT, [row["event_id"]])
        summary.add(summary.repaired, "missed_event", len(missing))
        uow.commit()
    return [event.event_id for event in missing]


# -- stuck sagas ---------------------------------------------------------------------------


def stuck_sagas(
    uow: UnitOfWork,
    deps: Deps,
    summary: Summary,
    dry_run: bool,
    older_than: timedelta = timedelta(hours=1),
) -> None:
    """Upgrades charging or awaiting payment too long: ask Stripe what became of the invoice."""
    cutoff = deps.clock.now() - older_than
    with uow:
        stuck = uow.upgrades.stuck_since(cutoff)
    for upgrade_id, invoice_id, organization_id in stuck:
        summary.add(summary.checked, "saga")
        invoice = deps.door.invoice(invoice_id)
        status = invoice.status
        if status not in ("paid", "void", "uncollectible"):
            continue
        summary.add(summary.drift, "saga")
        if dry_run:
            continue
        with uow:
            found = locked_upgrade(uow, upgrade_id)
            if found is None:
                continue
            if status == "paid":
                upgrade_steps.upgrade_paid(
                    uow, *found, invoice, int(deps.clock.now().timestamp()), deps
                )
            else:
                upgrade_payment.close_unpaid(
                    uow, upgrade_id, f"invoice {invoice_id} is {status}", deps
                )
            uow.drift.record(
                deps.clock.now(),
                kind="saga",
                organization_id=organization_id,
                subject=upgrade_id,
                cause=f"invoice {invoice_id} was {status}",
                repaired=True,
            )
            messagebus.commit(uow, deps)  # an applied upgrade issues its license
        summary.add(summary.repaired, "saga")
