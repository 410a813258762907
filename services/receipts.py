"""Receipts and history: what an upgrade cost and where Stripe's invoice for it is.

`invoice.paid` is applied by the upgrade saga (services/upgrade_payment.py); in the same
transaction, and only for a payment verified as the upgrade's own, its invoice number,
amount, time and hosted pages are kept as the upgrade's receipt, once.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.payment_methods import Receipt
from domain.ports import UnitOfWork
from domain.upgrades import Upgrade


@dataclass(frozen=True)
class HistoryEntry:
    upgrade: Upgrade
    receipt: Receipt | None


def receipt_of(uow: UnitOfWork, upgrade_id: str) -> Receipt | None:
    with uow:
        return uow.receipts.for_upgrade(upgrade_id)


def history(uow: UnitOfWork, organization_id: str) -> list[HistoryEntry]:
    """Every upgrade of the organization, newest first, with its receipt if paid."""
    with uow:
        upgrades = uow.history.upgrades(organization_id)
        receipts = uow.receipts.for_organization(organization_id)
    return [HistoryEntry(u, receipts.get(u.id)) for u in upgrades]
