"""Receipts and history: what an upgrade cost and where Stripe's invoice for it is.

`invoice.paid` is applied by the upgrade saga (services/upgrade_payment.py); in the same
transaction its invoice number, amount, time and hosted pages are kept as the upgrade's
receipt, once.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.unit_of_work import SqlUnitOfWork
from domain.commands import ConfirmInvoicePaid
from domain.payment_methods import Receipt
from domain.upgrades import Upgrade
from services import upgrade_payment
from services.deps import Deps


def confirm_invoice_paid(cmd: ConfirmInvoicePaid, uow: SqlUnitOfWork, deps: Deps) -> str:
    state = upgrade_payment.confirm_invoice_paid(cmd, uow, deps)
    if cmd.receipt is not None:
        keep_receipt(uow, cmd.receipt)
    return state


def keep_receipt(uow: SqlUnitOfWork, receipt: Receipt) -> bool:
    """The receipt of an upgrade's invoice (found by metadata or invoice id); False if none."""
    upgrade = uow.upgrades.get(receipt.upgrade_id) if receipt.upgrade_id else None
    upgrade = upgrade or uow.upgrades.by_invoice(receipt.invoice_id)
    if upgrade is None:
        return False
    kept = Receipt(**{**receipt.__dict__, "upgrade_id": upgrade.id})
    return uow.receipts.add(upgrade.organization_id, kept)


@dataclass(frozen=True)
class HistoryEntry:
    upgrade: Upgrade
    receipt: Receipt | None


def receipt_of(uow: SqlUnitOfWork, upgrade_id: str) -> Receipt | None:
    with uow:
        return uow.receipts.for_upgrade(upgrade_id)


def history(uow: SqlUnitOfWork, organization_id: str) -> list[HistoryEntry]:
    """Every upgrade of the organization, newest first, with its receipt if paid."""
    with uow:
        upgrades = uow.history.upgrades(organization_id)
        receipts = uow.receipts.for_organization(organization_id)
    return [HistoryEntry(u, receipts.get(u.id)) for u in upgrades]
