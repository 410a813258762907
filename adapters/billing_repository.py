"""The card on file and upgrade receipts: plain rows read and written with SQL core."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from adapters.orm import payment_methods, upgrade_receipts, upgrades
from domain.payment_methods import Card, CardOnFile, Receipt
from domain.upgrades import Upgrade


def _card(row: Any) -> Card | None:
    if not row.card_last4:
        return None
    return Card(row.card_brand or "card", row.card_last4, row.card_exp_month, row.card_exp_year)


class SqlPaymentMethodRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, organization_id: str) -> CardOnFile | None:
        row = self.session.execute(
            select(payment_methods).where(payment_methods.c.organization_id == organization_id)
        ).first()
        if row is None:
            return None
        return CardOnFile(
            row.organization_id,
            row.payment_method_id,
            _card(row),
            row.version,
            row.updated_at,
            row.default_at_stripe,
        )

    def put(self, found: CardOnFile) -> None:
        card = found.card
        values = {
            "payment_method_id": found.payment_method_id,
            "card_brand": card.brand if card else None,
            "card_last4": card.last4 if card else None,
            "card_exp_month": card.exp_month if card else None,
            "card_exp_year": card.exp_year if card else None,
            "version": found.version,
            "updated_at": found.updated_at,
            "default_at_stripe": found.default_at_stripe,
        }
        changed = self.session.execute(
            update(payment_methods)
            .where(payment_methods.c.organization_id == found.organization_id)
            .values(**values)
        )
        if not getattr(changed, "rowcount", 0):
            self.session.execute(
                insert(payment_methods).values(organization_id=found.organization_id, **values)
            )


def _receipt(row: Any) -> Receipt:
    return Receipt(
        invoice_id=row.invoice_id,
        number=row.number,
        amount_paid=row.amount_paid,
        currency=row.currency,
        paid_at=row.paid_at,
        hosted_invoice_url=row.hosted_invoice_url,
        invoice_pdf=row.invoice_pdf,
        upgrade_id=row.upgrade_id,
    )


class SqlReceiptRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, organization_id: str, receipt: Receipt) -> bool:
        """Keep the receipt once; False if this invoice's was already kept."""
        exists = self.session.execute(
            select(upgrade_receipts.c.invoice_id).where(
                (upgrade_receipts.c.invoice_id == receipt.invoice_id)
                | (upgrade_receipts.c.upgrade_id == receipt.upgrade_id)
            )
        ).first()
        if exists is not None:
            return False
        self.session.execute(
            insert(upgrade_receipts).values(
                invoice_id=receipt.invoice_id,
                upgrade_id=receipt.upgrade_id,
                organization_id=organization_id,
                number=receipt.number,
                amount_paid=receipt.amount_paid,
                currency=receipt.currency,
                paid_at=receipt.paid_at,
                hosted_invoice_url=receipt.hosted_invoice_url,
                invoice_pdf=receipt.invoice_pdf,
            )
        )
        return True

    def for_upgrade(self, upgrade_id: str) -> Receipt | None:
        row = self.session.execute(
            select(upgrade_receipts).where(upgrade_receipts.c.upgrade_id == upgrade_id)
        ).first()
        return _receipt(row) if row is not None else None

    def for_organization(self, organization_id: str) -> dict[str, Receipt]:
        """Receipts by upgrade id."""
        rows = self.session.execute(
            select(upgrade_receipts).where(upgrade_receipts.c.organization_id == organization_id)
        )
        return {row.upgrade_id: _receipt(row) for row in rows}


class SqlUpgradeHistoryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upgrades(self, organization_id: str, limit: int = 500) -> list[Upgrade]:
        """An organization's upgrades, newest first (with their transitions)."""
        query = (
            select(Upgrade)
            .where(upgrades.c.organization_id == organization_id)
            .order_by(upgrades.c.created_at.desc(), upgrades.c.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(query))
