"""Steps the upgrade handlers share: lock an upgrade with its organization, apply a paid
upgrade, and give money back for an upgrade that is no longer the one being paid."""

from __future__ import annotations

import logging
from datetime import datetime

from adapters.stripe_door import fetch_invoice
from adapters.unit_of_work import SqlUnitOfWork
from config.tasks import PUSH_UPGRADE
from domain.model import Organization
from domain.upgrades import Upgrade, UpgradeState, refund_due
from services import messagebus
from services.deps import Deps

log = logging.getLogger("seatflow.upgrades")
S = UpgradeState


def locked_upgrade(uow: SqlUnitOfWork, upgrade_id: str) -> tuple[Organization, Upgrade] | None:
    found = uow.upgrades.get(upgrade_id)
    if found is None:
        return None
    org = uow.organizations.locked(found.organization_id)  # lock first, then re-read under the lock
    uow.upgrades.refresh(found)
    return org, found


def apply_paid(
    uow: SqlUnitOfWork,
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
    if upgrade.discount_code:
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


def give_back(upgrade_id: str, invoice_id: str, uow: SqlUnitOfWork, deps: Deps) -> str:
    """A canceled upgrade's invoice: void it, or, if Stripe says it was paid, record what
    the card gave and refund it (each Stripe call outside any transaction)."""
    if deps.gateway.void_invoice(upgrade_id=upgrade_id, invoice_id=invoice_id) == "void":
        return "void"
    invoice = fetch_invoice(deps.gateway.retrieve, invoice_id)
    with uow:
        found = locked_upgrade(uow, upgrade_id)
        if found is not None and found[1].state == S.CANCELED and found[1].paid_amount is None:
            found[1].stripe_invoice_id = found[1].stripe_invoice_id or invoice_id
            found[1].paid_amount = invoice.amount_paid
            uow.receipts.add(found[0].id, invoice.receipt(upgrade_id))
        messagebus.commit(uow, deps)
    return refund_upgrade(upgrade_id, uow, deps)


def refund_upgrade(upgrade_id: str, uow: SqlUnitOfWork, deps: Deps) -> str:
    """Give back what the card paid for an upgrade no longer wanted (canceled, superseded):
    the Stripe call after the commit that recorded the payment, then the refund recorded."""
    with uow:
        upgrade = uow.upgrades.get(upgrade_id)
        if upgrade is None or not refund_due(upgrade):
            return upgrade.state if upgrade else "missing"
        invoice_id, amount = upgrade.stripe_invoice_id, upgrade.paid_amount or 0
    assert invoice_id is not None
    refund_id = (
        deps.gateway.refund_invoice(upgrade_id=upgrade_id, invoice_id=invoice_id, amount=amount)
        if amount
        else "nothing captured"
    )
    with uow:
        found = locked_upgrade(uow, upgrade_id)
        assert found is not None
        upgrade = found[1]
        if refund_due(upgrade):
            upgrade.refunded_amount = amount
            upgrade.move(S.REFUNDED, deps.clock.now(), f"refunded {refund_id}")
            log_upgrade("payment refunded", upgrade, invoice_id=invoice_id, amount=amount)
        uow.commit()
        return upgrade.state
