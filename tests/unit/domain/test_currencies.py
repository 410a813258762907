"""A currency's minor unit is known, or the amount is refused: never shown or charged by a
guessed exponent (a guess of two decimals would be off a hundredfold for a zero-decimal one)."""

from __future__ import annotations

import pytest

from domain.catalog_entries import parse_entry
from domain.errors import BadCatalogEntry, UnknownCurrency
from domain.money import exponent, format_money


@pytest.mark.parametrize(
    ("currency", "digits"), [("usd", 2), ("EUR", 2), ("jpy", 0), ("kwd", 3), ("chf", 2)]
)
def test_a_known_currency_has_its_exponent(currency: str, digits: int) -> None:
    assert exponent(currency) == digits


@pytest.mark.parametrize("currency", ["xts", "abc", "", "usdx"])
def test_an_unknown_currency_has_no_exponent_and_no_amount_is_shown_in_it(currency: str) -> None:
    with pytest.raises(UnknownCurrency, match="minor unit"):
        exponent(currency)
    with pytest.raises(UnknownCurrency):
        format_money(100, currency)


def test_a_catalog_price_in_an_unknown_currency_is_refused_naming_it() -> None:
    entry = {
        "license_type": "floating",
        "interval": "month",
        "unit_amount": 2500,
        "currency": "xts",
        "stripe_price_id": "price_test",
    }
    with pytest.raises(BadCatalogEntry, match=r"field 'currency'.*'xts'"):
        parse_entry(0, entry)
