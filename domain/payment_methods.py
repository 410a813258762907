"""The card on file and the receipt of a paid invoice: what Stripe told seatflow, kept so the
pages can show them without asking Stripe on every view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Card:
    """What a person may see of a card: never its number, only brand, last 4 and expiry."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class CardOnFile:
    """An organization's default payment method, as of the Stripe event `version`."""

    organization_id: str
    payment_method_id: str
    card: Card | None
    version: int
    updated_at: datetime

    def is_newer_than(self, other: CardOnFile | None) -> bool:
        """A later event wins; an equal second is a tie that the later delivery settles."""
        return other is None or self.version >= other.version


@dataclass(frozen=True)
class Receipt:
    """A paid invoice: its number, the amount Stripe took, when, and Stripe's hosted pages."""

    invoice_id: str
    number: str | None
    amount_paid: int
    currency: str
    paid_at: datetime | None
    hosted_invoice_url: str | None
    invoice_pdf: str | None
    upgrade_id: str | None = None
