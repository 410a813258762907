"""Steps the upgrade handlers share: lock an upgrade with its organization, apply a paid
upgrade, and give money back for an upgrade that is no longer the one being paid."""

from __future__ import annotations

import logging
from datetime import datetime

from adapters.unit_of_work import SqlUnitOfWork
from config.tasks import PUSH_UPGRADE
from domain.model import Organization
from domain.upgrades import Upgrade, UpgradeState
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


def refund(upgrade: Upgrade, invoice_id: str, amount: int, deps: Deps, cause: str) -> None:
    """Give back `amount` captured by `invoice_id` and record it (inside the caller's uow)."""
    refund_id = deps.gateway.refund_invoice(
        upgrade_id=upgrade.id, invoice_id=invoice_id, amount=amount
    )
    upgrade.refunded_amount = amount
    upgrade.paid_amount = amount
    upgrade.move(S.REFUNDED, deps.clock.now(), f"refunded {refund_id}: {cause}")
    log.warning(
        "payment refunded",
        extra={"upgrade_id": upgrade.id, "invoice_id": invoice_id, "amount": amount},
    )


def give_back(upgrade_id: str, invoice_id: str, uow: SqlUnitOfWork, deps: Deps) -> str:
    """A canceled upgrade's invoice: void it, or refund it if Stripe says it was paid."""
    if deps.gateway.void_invoice(upgrade_id=upgrade_id, invoice_id=invoice_id) == "void":
        return "void"
    invoice = deps.gateway.retrieve("invoice", invoice_id)
    with uow:
        found = locked_upgrade(uow, upgrade_id)
        if found is not None and found[1].state == S.CANCELED:
            amount = int(invoice.get("amount_paid") or 0)
            refund(found[1], invoice_id, amount, deps, "paid after it was canceled")
            messagebus.commit(uow, deps)
    return "refunded"
