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
    # False from the moment seatflow keeps a new card until Stripe has been told to make it
    # the customer's default (push_default_card): meanwhile a charge names the card itself.
    default_at_stripe: bool = True

    def pay_with(self) -> str | None:
        """The card a charge names, or None to let Stripe use the customer's default: that is
        this card, or a newer one set in Stripe that seatflow has not heard of yet."""
        return None if self.default_at_stripe else self.payment_method_id

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


@dataclass(frozen=True)
class InvoiceFact:
    """What Stripe says of an invoice, typed: whose it is (customer, subscription), its total
    and what was captured, its status. Nothing here says which upgrade it pays: only the
    invoice id that seatflow recorded when it created the invoice does.

    `amount_paid` is what Stripe captured from the card. A paid invoice's `total` may be
    covered partly or wholly by the customer's credit balance, or be below the currency's
    minimum charge (Stripe then marks it paid with nothing captured)."""

    invoice_id: str
    customer_id: str | None
    status: str
    total: int
    amount_paid: int
    currency: str
    livemode: bool = False
    subscription_id: str | None = None
    billing_reason: str | None = None
    period_start: int | None = None
    period_end: int | None = None
    hosted_invoice_url: str | None = None
    number: str | None = None
    paid_at: datetime | None = None
    invoice_pdf: str | None = None
    # The first line's price and quantity: what a renewal invoice bills.
    line_price_id: str | None = None
    line_quantity: int | None = None

    @property
    def paid(self) -> bool:
        return self.status == "paid"

    def receipt(self, upgrade_id: str) -> Receipt:
        return Receipt(
            invoice_id=self.invoice_id,
            number=self.number,
            amount_paid=self.amount_paid,
            currency=self.currency,
            paid_at=self.paid_at,
            hosted_invoice_url=self.hosted_invoice_url,
            invoice_pdf=self.invoice_pdf,
            upgrade_id=upgrade_id,
        )
