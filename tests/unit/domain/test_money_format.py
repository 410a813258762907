"""Amounts are shown by their currency's exponent, in one function."""

from __future__ import annotations

import pytest

from domain.money import Money, format_money


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (10000, "jpy", "10,000 JPY"),
        (9048, "usd", "90.48 USD"),
        (1500, "kwd", "1.500 KWD"),
        (5, "bhd", "0.005 BHD"),
        (-123456, "krw", "-123,456 KRW"),
        (-7, "eur", "-0.07 EUR"),
        (38_900_000_000, "usd", "389,000,000.00 USD"),
    ],
)
def test_money_is_shown_by_the_currency_s_exponent(amount: int, currency: str, shown: str) -> None:
    assert format_money(amount, currency) == shown
    assert str(Money(amount, currency)) == shown


def test_a_signed_amount_shows_plus_above_zero() -> None:
    assert format_money(1234, "jpy", signed=True) == "+1,234 JPY"
    assert format_money(0, "usd", signed=True) == "0.00 USD"
