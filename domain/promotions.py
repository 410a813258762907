"""Stripe's promotion codes, as seatflow reads them (`adapters/promotion_parsing.py` makes
them from Stripe's `promotion_code` and `coupon` objects).

A promotion code names a coupon (a percentage or an amount off) and may restrict who uses it
and when: active or not, an expiry, a redemption limit (its own and its coupon's), one
customer only, customers who never paid only, a minimum amount. Stripe counts a redemption
when an invoice that carries the code is paid, and refuses the code on an invoice once it is
no longer redeemable; seatflow checks the same restrictions before, so that the estimate is
refused with a named error rather than the payment.

What the estimate relies on to agree with Stripe's invoice to the cent (the upgrade invoice
has one line, the surcharge before any discount, and the code on the invoice):
- a percent-off coupon takes `percent_of(line, percent_off)`: percent_off % of the line,
  rounded half up to the minor unit (33.33 % of 1001 cents = 333.6333 → 334; of 1500 cents
  = 499.95 → 500), never more than the line;
- an amount-off coupon takes its amount in the invoice's currency (its own currency or one of
  its `currency_options`), never more than the line, so the total is never negative;
- a minimum amount is compared with the line before the discount, in the invoice's currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from domain.discounts import percent_of
from domain.errors import (
    DiscountCodeCurrency,
    DiscountCodeExhausted,
    DiscountCodeExpired,
    DiscountCodeFirstTimeOnly,
    DiscountCodeInactive,
    DiscountCodeMinimumAmount,
    DiscountCodeOtherCustomer,
)
from domain.money import format_money

Amounts = tuple[tuple[str, int], ...]  # (currency, minor units), currencies lower-case


def _in(amounts: Amounts, currency: str) -> int | None:
    return dict(amounts).get(currency.lower())


def _reached(limit: int | None, used: int) -> bool:
    return limit is not None and used >= limit


@dataclass(frozen=True)
class Coupon:
    """A Stripe coupon: `percent_off` (a fraction, e.g. 3333/100) or amounts off by currency."""

    id: str
    percent_off: Fraction | None = None
    amounts_off: Amounts = ()
    valid: bool = True
    redeem_by: datetime | None = None
    max_redemptions: int | None = None
    times_redeemed: int = 0


@dataclass(frozen=True)
class PromotionCode:
    """A Stripe promotion code: `code` in its canonical form (`canonical_code`)."""

    id: str
    code: str
    coupon: Coupon
    active: bool = True
    expires_at: datetime | None = None
    max_redemptions: int | None = None
    times_redeemed: int = 0
    customer_id: str | None = None
    first_time_only: bool = False
    minimums: Amounts = ()

    def check_usable(self, now: datetime, customer_id: str | None, paid_before: bool) -> None:
        """Redeemable now by this customer (`paid_before`: Stripe has a successful payment
        or invoice of theirs); a named error for the first restriction that refuses it."""
        name = f"promotion code {self.code!r}"
        if not self.active or not self.coupon.valid:
            raise DiscountCodeInactive(f"{name} is not active")
        ends = [t for t in (self.expires_at, self.coupon.redeem_by) if t is not None]
        if any(now >= end for end in ends):
            raise DiscountCodeExpired(f"{name} expired")
        if _reached(self.max_redemptions, self.times_redeemed) or _reached(
            self.coupon.max_redemptions, self.coupon.times_redeemed
        ):
            raise DiscountCodeExhausted(f"{name} was fully redeemed")
        if self.customer_id is not None and self.customer_id != customer_id:
            raise DiscountCodeOtherCustomer(f"{name} is for another customer")
        if self.first_time_only and paid_before:
            raise DiscountCodeFirstTimeOnly(f"{name} is for a first payment only")

    def take_off(self, gross: int, currency: str) -> int:
        """What Stripe takes off an invoice line of `gross` in `currency` (see the module)."""
        self._check_minimum(gross, currency)
        if self.coupon.percent_off is not None:
            return min(gross, percent_of(gross, self.coupon.percent_off))
        amount = _in(self.coupon.amounts_off, currency)
        if amount is None:
            held = ", ".join(c.upper() for c, _ in self.coupon.amounts_off)
            raise DiscountCodeCurrency(
                f"promotion code {self.code!r} takes an amount off in {held}, "
                f"the price is in {currency.upper()}"
            )
        return min(gross, amount)

    def _check_minimum(self, gross: int, currency: str) -> None:
        if not self.minimums:
            return
        minimum = _in(self.minimums, currency)
        if minimum is None:
            held = ", ".join(c.upper() for c, _ in self.minimums)
            raise DiscountCodeCurrency(
                f"promotion code {self.code!r} has a minimum amount in {held}, "
                f"the price is in {currency.upper()}"
            )
        if gross < minimum:
            raise DiscountCodeMinimumAmount(
                f"promotion code {self.code!r} needs at least {format_money(minimum, currency)} "
                f"due before the discount; this upgrade comes to {format_money(gross, currency)}"
            )
