"""Steps the parts of the saga share: lock an upgrade with its organization, price it,
verify a payment as the upgrade's own and apply it, give money back for an upgrade that is
no longer the one being paid. Imports no sibling."""

from __future__ import annotations

import logging
from datetime import datetime

from config.metrics import PAYMENT_DRIFT
from config.tasks import PUSH_UPGRADE, REFUND_UPGRADE, RELEASE_SCHEDULE
from domain import pricing, renewal
from domain.discounts import Reduction
from domain.errors import NotOwnerOrAdmin
from domain.model import Member, Organization, Subscription
from domain.payment_methods import InvoiceFact
from domain.ports import UnitOfWork
from domain.proration import Surcharge
from domain.reconciliation_jobs import PAYMENT_DRIFT as PAYMENT_KIND
from domain.upgrades import Upgrade, UpgradeState, refund_due
from services import messagebus
from services.deps import Deps
from services.ownership import NotOurs, Outcome

log = logging.getLogger("seatflow.upgrades")
S = UpgradeState


def locked_upgrade(uow: UnitOfWork, upgrade_id: str) -> tuple[Organization, Upgrade] | None:
    found = uow.upgrades.get(upgrade_id)
    if found is None:
        return None
    org = uow.organizations.locked(found.organization_id)  # lock first, then re-read under the lock
    uow.upgrades.refresh(found)
    return org, found


def apply_paid(
    uow: UnitOfWork,
    org: Organization,
    upgrade: Upgrade,
    version: int,
    now: datetime,
    cause: str,
) -> None:
    upgrade.move(S.PAID, now, cause)
    upgrade.payment_url = None
    price = uow.catalog.load().price(upgrade.license_type, upgrade.interval, upgrade.tier)
    org.apply_upgrade(upgrade, price, version, now)
    pending = uow.changes.pending(org.id, upgrade.license_type)
    superseded = pending is not None and renewal.supersede(pending, upgrade.id, now)
    if pending is not None and superseded and pending.stripe_schedule_id:
        # Priced against terms that no longer hold: Stripe's schedule is released.
        uow.enqueue_after_commit(RELEASE_SCHEDULE, [pending.id])
    if upgrade.discount_code and not upgrade.promotion_code_id:  # Stripe counts its codes
        discount = uow.catalog.discount(upgrade.discount_code, lock=True)
        if discount is not None:
            discount.redeem()
    upgrade.move(S.APPLIED, now, "subscription changed")
    uow.enqueue_after_commit(PUSH_UPGRADE, [upgrade.id])
    log_upgrade("upgrade applied", upgrade, cause=cause)


def log_upgrade(message: str, upgrade: Upgrade, **extra: object) -> None:
    log.info(
        message,
        extra={
            "upgrade_id": upgrade.id,
            "organization_id": upgrade.organization_id,
            "state": upgrade.state,
            **extra,
        },
    )


def give_back(upgrade_id: str, invoice_id: str, uow: UnitOfWork, deps: Deps) -> str:
    """A canceled upgrade's invoice: void it, or, if Stripe says it was paid, record what
    the card gave and refund it (each Stripe call outside any transaction)."""
    if deps.gateway.void_invoice(upgrade_id=upgrade_id, invoice_id=invoice_id) == "void":
        return "void"
    invoice = deps.door.invoice(invoice_id)
    with uow:
        found = locked_upgrade(uow, upgrade_id)
        if found is not None and found[1].state == S.CANCELED and found[1].paid_amount is None:
            found[1].stripe_invoice_id = found[1].stripe_invoice_id or invoice_id
            found[1].paid_amount = invoice.amount_paid
            uow.receipts.add(found[0].id, invoice.receipt(upgrade_id))
        messagebus.commit(uow, deps)
    return refund_upgrade(upgrade_id, uow, deps)


def refund_upgrade(upgrade_id: str, uow: UnitOfWork, deps: Deps) -> str:
    """Give back what an upgrade no longer wanted (canceled, superseded) was paid: what the
    card paid as a refund, what the customer's balance paid (or, below the minimum charge,
    was owed on it) back to the balance, as Stripe would with a credit note. The Stripe calls
    come after the commit that recorded the payment, then the refund is recorded."""
    with uow:
        found = locked_upgrade(uow, upgrade_id)
        if found is None or not refund_due(found[1]):
            return found[1].state if found else "missing"
        org, upgrade = found
        invoice_id, card = upgrade.stripe_invoice_id, upgrade.paid_amount or 0
        balance = max(0, (upgrade.charged_amount or 0) - card)
        customer, currency = org.stripe_customer_id, upgrade.currency
    assert invoice_id is not None
    gateway = deps.gateway
    given = []
    if card:
        given.append(
            gateway.refund_invoice(upgrade_id=upgrade_id, invoice_id=invoice_id, amount=card)
        )
    if balance and customer:
        given.append(
            gateway.credit_balance(
                upgrade_id=upgrade_id,
                invoice_id=invoice_id,
                customer_id=customer,
                amount=balance,
                currency=currency,
            )
        )
    with uow:
        found = locked_upgrade(uow, upgrade_id)
        assert found is not None
        upgrade = found[1]
        if refund_due(upgrade):
            upgrade.refunded_amount = card
            what = ", ".join(given) or "nothing was paid"
            upgrade.move(S.REFUNDED, deps.clock.now(), f"given back: {what}")
            log_upgrade("payment given back", upgrade, invoice_id=invoice_id, card=card)
        uow.commit()
        return upgrade.state


def upgrade_paid(
    uow: UnitOfWork,
    org: Organization,
    upgrade: Upgrade,
    invoice: InvoiceFact,
    version: int,
    deps: Deps,
) -> Outcome:
    """Apply the upgrade its own paid invoice pays (inside `uow`, the organization locked)."""
    mismatch = _mismatch(invoice, upgrade, deps)
    if mismatch is not None:
        _record_drift(uow, org, upgrade, invoice, mismatch, deps)
        return NotOurs("payment", f"invoice {invoice.invoice_id} does not pay it: {mismatch}")
    if upgrade.state in (S.APPLIED, S.PAID, S.REFUNDED) or upgrade.paid_amount is not None:
        return "applied"
    uow.receipts.add(org.id, invoice.receipt(upgrade.id))
    cause = f"invoice.paid {invoice.invoice_id}"
    if _no_longer_paid_for(upgrade):
        # What the card gave is refunded after the commit (no Stripe call under the lock).
        upgrade.paid_amount = invoice.amount_paid
        uow.enqueue_after_commit(REFUND_UPGRADE, [upgrade.id])
        log_upgrade("payment for an upgrade no longer wanted: refund due", upgrade, cause=cause)
        return "applied"
    upgrade.paid_amount = invoice.total
    apply_paid(uow, org, upgrade, version, deps.clock.now(), cause)
    return "applied"


def _mismatch(invoice: InvoiceFact, upgrade: Upgrade, deps: Deps) -> str | None:
    """What makes this paid invoice not the upgrade's full payment, or None. The total is
    compared, not what the card gave: Stripe takes a credit balance first, and marks an
    invoice below the currency's minimum charge paid with nothing captured."""
    if not invoice.paid:
        return "status"
    if upgrade.charged_amount is None:
        return "no_invoice"  # nothing was invoiced yet
    if invoice.currency.lower() != upgrade.currency.lower():
        return "currency"
    if invoice.livemode != deps.origin.livemode:
        return "livemode"
    if invoice.total != upgrade.charged_amount:
        return "amount"
    return None


def _record_drift(
    uow: UnitOfWork,
    org: Organization,
    upgrade: Upgrade,
    invoice: InvoiceFact,
    reason: str,
    deps: Deps,
) -> None:
    PAYMENT_DRIFT.labels(reason).inc()
    log.error(
        "invoice.paid is not the upgrade's own payment: not applied",
        extra={"upgrade_id": upgrade.id, "invoice_id": invoice.invoice_id, "reason": reason},
    )
    uow.drift.record(
        deps.clock.now(),
        kind=PAYMENT_KIND,
        organization_id=org.id,
        subject=upgrade.id,
        cause=f"invoice.paid {invoice.invoice_id}: {reason}",
        estimate_amount=upgrade.estimate_amount,
        charged_amount=upgrade.charged_amount,
        paid_amount=invoice.total,
        currency=invoice.currency[:3],
        flagged=True,
        repaired=False,
    )


def _no_longer_paid_for(upgrade: Upgrade) -> bool:
    """Canceled, or replaced by a later upgrade of the same subscription."""
    if upgrade.state == S.CANCELED:
        return True
    last = upgrade.history[-1].cause if upgrade.history else ""
    return upgrade.state == S.EXPIRED and last.startswith("superseded by")


def member_of(uow: UnitOfWork, org: Organization, member_id: str) -> Member:
    member = uow.members.get(member_id)
    if member is None or member.organization_id != org.id:
        raise NotOwnerOrAdmin("not a member of this organization")
    return member


def surcharge_for(
    uow: UnitOfWork,
    sub: Subscription,
    seats: int,
    interval: str,
    discount: Reduction | None,
    now: datetime,
    tier: str | None = None,
) -> Surcharge:
    return pricing.surcharge_for(uow.catalog.load(), sub, seats, interval, discount, now, tier)
