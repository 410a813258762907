"""The surcharge for an upgrade, exactly as the product documents define it.

surcharge = new price × unused part of the new cycle − old price × unused part of the current
cycle, where the new cycle starts when the current cycle started. Unused parts are whole
minutes from now to each cycle's end (rounded down) over the cycle's total minutes. Each term
is rounded half-up to the minor unit; the surcharge is never negative; a discount applies to
it; during a trial it is zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.cycles import cycle_end, whole_minutes
from domain.discounts import Reduction
from domain.errors import AmountTooLarge, CurrencyMismatch
from domain.money import Money, div_half_up, format_money, max_amount


@dataclass(frozen=True)
class Plan:
    """A unit price times a number of seats on a billing interval."""

    unit_amount: int
    seats: int
    interval: str
    currency: str

    @property
    def price(self) -> int:
        return self.unit_amount * self.seats


@dataclass(frozen=True)
class Surcharge:
    amount: Money
    before_discount: Money
    discount: Money
    old_term: Money
    new_term: Money
    old_unused_minutes: int
    old_total_minutes: int
    new_unused_minutes: int
    new_total_minutes: int
    cycle_start: datetime
    current_cycle_end: datetime
    new_cycle_end: datetime
    next_invoice_at: datetime
    next_invoice_amount: Money
    trial: bool
    as_of: datetime


def _term(price: int, unused: int, total: int) -> int:
    return div_half_up(price * unused, total) if total else 0


def _check_chargeable(amount: int, what: str, currency: str) -> None:
    """Stripe refuses one payment above `max_amount`: refuse it here, at the estimate, and
    again at the charge, which recomputes the amount through this function."""
    largest = max_amount(currency)
    if amount > largest:
        raise AmountTooLarge(
            f"{what}, {format_money(amount, currency)}, is more than Stripe can take in one "
            f"payment ({format_money(largest, currency)}): please contact sales for an "
            "upgrade of this size."
        )


def compute_surcharge(
    old: Plan,
    new: Plan,
    cycle_start: datetime,
    as_of: datetime,
    *,
    trial: bool = False,
    discount: Reduction | None = None,
) -> Surcharge:
    if old.currency.lower() != new.currency.lower():
        raise CurrencyMismatch(f"current price is in {old.currency}, new price in {new.currency}")
    currency = new.currency.lower()
    current_end, new_end = (
        cycle_end(cycle_start, old.interval),
        cycle_end(cycle_start, new.interval),
    )
    old_total, new_total = (
        whole_minutes(cycle_start, current_end),
        whole_minutes(cycle_start, new_end),
    )
    old_unused = min(whole_minutes(as_of, current_end), old_total)
    new_unused = min(whole_minutes(as_of, new_end), new_total)
    old_term = _term(old.price, old_unused, old_total)
    new_term = _term(new.price, new_unused, new_total)
    gross = 0 if trial else max(0, new_term - old_term)
    off = discount.take_off(gross, currency) if discount and gross else 0
    _check_chargeable(gross - off, "The amount due now", currency)
    _check_chargeable(new.price, "The next invoice", currency)
    return Surcharge(
        amount=Money(gross - off, currency),
        before_discount=Money(gross, currency),
        discount=Money(off, currency),
        old_term=Money(old_term, currency),
        new_term=Money(new_term, currency),
        old_unused_minutes=old_unused,
        old_total_minutes=old_total,
        new_unused_minutes=new_unused,
        new_total_minutes=new_total,
        cycle_start=cycle_start,
        current_cycle_end=current_end,
        new_cycle_end=new_end,
        next_invoice_at=new_end,
        next_invoice_amount=Money(new.price, currency),
        trial=trial,
        as_of=as_of,
    )
