"""Whose is a Stripe object: decided here, once, from the ids seatflow itself recorded.

An invoice belongs to the organization whose Stripe customer it names, and to the upgrade
that recorded its id when seatflow created it (before asking Stripe to pay it), or to the
organization's subscription it renews. Metadata is never asked: anyone with access to the
Stripe dashboard can write it. Every invoice and card event passes through here before it
touches anything; what does not belong is stored `ignored` with the reason, and counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from config.metrics import NOT_OURS
from domain.model import Organization, Subscription
from domain.payment_methods import InvoiceFact
from domain.ports import UnitOfWork
from domain.renewal import ScheduledChange, ScheduleFact
from domain.upgrades import Upgrade

log = logging.getLogger("seatflow.workers")


@dataclass(frozen=True)
class NotOurs:
    """Why a Stripe object is not applied to anything seatflow holds."""

    kind: str
    reason: str

    @property
    def note(self) -> str:
        return f"not applied: {self.reason}"


# A handler's outcome: the event's state, or why it is not applied (stored `ignored`).
Outcome = str | NotOurs


@dataclass(frozen=True)
class InvoiceOwner:
    """The organization an invoice belongs to, with the upgrade it pays or the subscription
    it renews."""

    organization: Organization
    upgrade: Upgrade | None = None
    subscription: Subscription | None = None


def not_ours(kind: str, reason: str, object_id: str) -> NotOurs:
    NOT_OURS.labels(kind).inc()
    log.warning("stripe object not applied", extra={"object_id": object_id, "kind": kind})
    return NotOurs(kind, reason)


def owner_of_customer(uow: UnitOfWork, customer_id: str | None) -> Organization | NotOurs:
    """The organization of a Stripe customer, locked for this transaction."""
    org = uow.organizations.get_by_customer(customer_id, lock=True) if customer_id else None
    if org is None:
        return not_ours("customer", f"customer {customer_id!r} is no organization's", "")
    return org


def owner_of_invoice(uow: UnitOfWork, invoice: InvoiceFact) -> InvoiceOwner | NotOurs:
    """Whose `invoice` is: its customer's organization, and the upgrade that recorded the
    invoice's id or the subscription it renews."""
    org = owner_of_customer(uow, invoice.customer_id)
    if isinstance(org, NotOurs):
        return org
    upgrade = uow.upgrades.by_invoice(invoice.invoice_id)
    if upgrade is not None:
        if upgrade.organization_id != org.id:
            return not_ours(
                "invoice",
                f"invoice {invoice.invoice_id} was made for another organization's upgrade",
                invoice.invoice_id,
            )
        uow.upgrades.refresh(upgrade)  # read again under the organization's lock
        return InvoiceOwner(org, upgrade=upgrade)
    subscription = (
        org.subscription_by_stripe_id(invoice.subscription_id) if invoice.subscription_id else None
    )
    if subscription is None:
        return not_ours(
            "invoice",
            f"invoice {invoice.invoice_id} is neither an upgrade's nor a subscription's",
            invoice.invoice_id,
        )
    return InvoiceOwner(org, subscription=subscription)


def owner_of_schedule(
    uow: UnitOfWork, schedule: ScheduleFact
) -> tuple[Organization, ScheduledChange] | NotOurs:
    """Whose a subscription schedule is: its customer's organization, and the change that
    recorded the schedule's id when seatflow made it (of that organization's subscription).
    A schedule seatflow did not record (one made in the dashboard) changes nothing here:
    what it does to the subscription arrives as the subscription's own events."""
    org = owner_of_customer(uow, schedule.customer_id)
    if isinstance(org, NotOurs):
        return org
    change = uow.changes.by_schedule(schedule.schedule_id)
    mine = (
        change is not None
        and change.organization_id == org.id
        and schedule.subscription_id in (None, change.stripe_subscription_id)
    )
    if change is None or not mine:
        return not_ours(
            "schedule",
            f"schedule {schedule.schedule_id} is no change seatflow scheduled for this customer",
            schedule.schedule_id,
        )
    uow.changes.refresh(change)  # read again under the organization's lock
    return org, change
