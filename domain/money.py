"""Money in integer minor units. Division rounds half-up, exactly, with integers only."""

from __future__ import annotations

from dataclasses import dataclass


def div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, for non-negative results."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if numerator < 0:
        return -div_half_up(-numerator, denominator)
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True, order=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        object.__setattr__(self, "currency", self.currency.lower())

    def __str__(self) -> str:
        sign = "-" if self.amount < 0 else ""
        whole, cents = divmod(abs(self.amount), 100)
        return f"{sign}{whole:,}.{cents:02d} {self.currency.upper()}"
