"""Discount codes: percent off (rounded half-up) or an amount off, applied to a surcharge.

seatflow's own codes (created with `seatflow discount create`) live here; Stripe's promotion
codes are `domain.promotions.PromotionCode`. Both are a `Reduction`, both round a percentage
with `percent_of`, and both are named by text in `canonical_code`'s one form.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Protocol

from domain.errors import (
    DiscountCodeCurrency,
    DiscountCodeExhausted,
    DiscountCodeExpired,
    DiscountCodeInactive,
    InvalidDiscountCode,
)
from domain.money import div_half_up


def percent_of(amount: int, percent: Fraction | int) -> int:
    """`percent` % of `amount` minor units, rounded half up to the minor unit.

    This is the rule Stripe applies to a percent-off coupon, line by line, and the one
    seatflow applies to its own codes: 33.33 % of 1001 cents is 333.6333 → 334, of 1003 cents
    334.2999 → 334, of 1500 cents 499.95 → 500; 10 % of 25 cents is 2.5 → 3 (half up, not to
    even). Exact: a percentage with decimals is a fraction, never a float."""
    share = Fraction(percent)
    return div_half_up(amount * share.numerator, 100 * share.denominator)


class Reduction(Protocol):
    """What takes an amount off an upgrade's surcharge: a code of seatflow's own or a Stripe
    promotion code."""

    @property
    def code(self) -> str: ...

    def take_off(self, gross: int, currency: str) -> int:
        """How much of `gross` (in `currency`) it takes off; a named error if it cannot."""
        ...


@dataclass(eq=False)
class Discount:
    code: str
    percent_off: int | None = None  # whole percent, 1..100
    amount_off: int | None = None  # minor units, in `currency`
    currency: str | None = None
    active: bool = True
    expires_at: datetime | None = None
    max_redemptions: int | None = None
    times_redeemed: int = 0

    def check_usable(self, now: datetime, reserved: int = 0) -> None:
        """Usable now, with `reserved` redemptions held by upgrades not yet paid."""
        if not self.active:
            raise DiscountCodeInactive(f"discount code {self.code!r} is not active")
        if self.expires_at is not None and now >= self.expires_at:
            raise DiscountCodeExpired(f"discount code {self.code!r} expired")
        used = self.times_redeemed + reserved
        if self.max_redemptions is not None and used >= self.max_redemptions:
            raise DiscountCodeExhausted(f"discount code {self.code!r} was fully redeemed")

    def take_off(self, gross: int, currency: str) -> int:
        """How much of `gross` this discount takes off (never more than `gross`)."""
        if self.percent_off is not None:
            return min(gross, percent_of(gross, self.percent_off))
        if self.amount_off is not None:
            if (self.currency or "").lower() != currency.lower():
                raise DiscountCodeCurrency(
                    f"discount code {self.code!r} is in {self.currency}, the price in {currency}"
                )
            return min(gross, self.amount_off)
        return 0

    def redeem(self) -> None:
        self.times_redeemed += 1


CODE_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
MAX_CODE_LENGTH = 64


def canonical_code(raw: str) -> str:
    """The one form a discount code is stored, reserved and compared in: Unicode NFKC (so a
    ligature or a full-width letter is the letter), trimmed, upper-cased; then only ASCII
    letters, digits, `-` and `_`, at most 64 of them. Anything else is refused by name, so
    two spellings can never be two codes."""
    code = unicodedata.normalize("NFKC", raw).strip().upper()
    if not code or len(code) > MAX_CODE_LENGTH or not set(code) <= CODE_ALPHABET:
        raise InvalidDiscountCode(
            "a discount code is 1 to 64 letters A-Z, digits, '-' or '_' (case does not matter)"
        )
    return code
