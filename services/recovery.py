"""Recovery jobs of reconciliation: events Stripe never delivered, sagas that stalled.

- missed events: events Stripe failed to deliver, and events newer than the newest one seen,
  are put in the inbox as if delivered (then processed like any other).
- stuck sagas: upgrades charging or awaiting payment too long ask Stripe for the invoice:
  paid → applied, void or uncollectible → expired.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from adapters.drift import Summary, record
from adapters.orm import inbox
from adapters.orm import upgrades as upgrades_table
from adapters.unit_of_work import SqlUnitOfWork
from config.events import is_handled
from config.tasks import PROCESS_STRIPE_EVENT
from domain.commands import ConfirmInvoicePaid
from domain.upgrades import UpgradeState
from services import messagebus, upgrade_payment
from services.deps import Deps

S = UpgradeState


# -- missed events -------------------------------------------------------------------------

WINDOW_MARGIN = timedelta(minutes=5)


def missed_events(
    uow: SqlUnitOfWork, deps: Deps, summary: Summary, dry_run: bool, since: datetime | None = None
) -> list[str]:
    """Put events Stripe failed to deliver, or newer than the newest one seen, in the inbox."""
    with uow:
        newest = uow.session.scalar(select(func.max(inbox.c.created)))
    start = (
        int(since.timestamp())
        if since
        else (int(newest) - int(WINDOW_MARGIN.total_seconds()) if newest else None)
    )
    sources = [deps.gateway.list_events(delivery_success=False)]
    if start is not None:
        sources.append(deps.gateway.list_events(created_gte=start))
    found: list[str] = []
    for source in sources:
        for page in source:
            found += _insert_missing(uow, deps, summary, dry_run, page)
    return found


def _insert_missing(
    uow: SqlUnitOfWork, deps: Deps, summary: Summary, dry_run: bool, page: list[dict[str, Any]]
) -> list[str]:
    now = deps.clock.now()
    with uow:
        ids = [event["id"] for event in page]
        seen = set(uow.session.scalars(select(inbox.c.event_id).where(inbox.c.event_id.in_(ids))))
        missing = [event for event in page if event["id"] not in seen]
        summary.add(summary.checked, "events", len(page))
        if missing:
            summary.add(summary.drift, "missed_event", len(missing))
        if dry_run or not missing:
            return [event["id"] for event in missing]
        for event in missing:
            handled = is_handled(str(event.get("type", "")))
            uow.session.execute(
                insert(inbox).values(
                    event_id=event["id"],
                    type=event["type"],
                    api_version=event.get("api_version"),
                    account=event.get("account"),
                    livemode=bool(event.get("livemode")),
                    created=int(event["created"]),
                    payload=json.dumps(event),
                    received_at=now,
                    updated_at=now,
                    secret_index=None,
                    attempts=0,
                    state="received" if handled else "ignored",
                )
            )
            record(
                uow,
                now,
                kind="missed_event",
                subject=event["id"],
                cause=f"{event['type']} was never delivered",
                repaired=True,
            )
            if handled:
                uow.enqueue_after_commit(PROCESS_STRIPE_EVENT, [event["id"]])
        summary.add(summary.repaired, "missed_event", len(missing))
        uow.commit()
    return [event["id"] for event in missing]


# -- stuck sagas ---------------------------------------------------------------------------


def stuck_sagas(
    uow: SqlUnitOfWork,
    deps: Deps,
    summary: Summary,
    dry_run: bool,
    older_than: timedelta = timedelta(hours=1),
) -> None:
    """Upgrades charging or awaiting payment too long: ask Stripe what became of the invoice."""
    cutoff = deps.clock.now() - older_than
    with uow:
        stuck = uow.session.execute(
            select(
                upgrades_table.c.id,
                upgrades_table.c.stripe_invoice_id,
                upgrades_table.c.organization_id,
            ).where(
                upgrades_table.c.state.in_(
                    [S.CHARGING.value, S.AWAITING_PAYMENT.value, S.REQUIRES_ACTION.value]
                ),
                upgrades_table.c.updated_at < cutoff,
                upgrades_table.c.stripe_invoice_id.isnot(None),
            )
        ).all()
    for upgrade_id, invoice_id, organization_id in stuck:
        summary.add(summary.checked, "saga")
        invoice = deps.gateway.retrieve("invoice", invoice_id)
        status = invoice.get("status")
        if status not in ("paid", "void", "uncollectible"):
            continue
        summary.add(summary.drift, "saga")
        if dry_run:
            continue
        with uow:
            if status == "paid":
                upgrade_payment.confirm_invoice_paid(
                    ConfirmInvoicePaid(
                        invoice_id=invoice_id,
                        upgrade_id=upgrade_id,
                        amount_paid=int(invoice.get("amount_paid") or 0),
                        currency=str(invoice.get("currency") or ""),
                        version=int(deps.clock.now().timestamp()),
                        stripe_customer_id=_customer_id(invoice.get("customer")),
                        livemode=bool(invoice.get("livemode")),
                    ),
                    uow,
                    deps,
                )
            else:
                upgrade_payment.close_unpaid(
                    uow, upgrade_id, f"invoice {invoice_id} is {status}", deps
                )
            record(
                uow,
                deps.clock.now(),
                kind="saga",
                organization_id=organization_id,
                subject=upgrade_id,
                cause=f"invoice {invoice_id} was {status}",
                repaired=True,
            )
            messagebus.commit(uow, deps)  # an applied upgrade issues its license
        summary.add(summary.repaired, "saga")


def _customer_id(customer: Any) -> str | None:
    found = customer.get("id") if isinstance(customer, dict) else customer
    return str(found) if found else None
