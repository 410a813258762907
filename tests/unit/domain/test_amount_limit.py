"""Stripe refuses an amount above 99,999,999 minor units: the estimate (and so the charge,
which recomputes it the same way) refuses it first, with a named error that says so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import AmountTooLarge
from domain.proration import Plan, compute_surcharge

START, AS_OF = datetime(2022, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)


def test_an_upgrade_whose_charge_stripe_would_refuse_is_refused_with_a_sentence() -> None:
    old = Plan(10000, 5, "month", "usd")
    new = Plan(389_000, 100_000, "year", "usd")  # 100,000 enterprise seats, annual
    with pytest.raises(AmountTooLarge) as refused:
        compute_surcharge(old, new, START, AS_OF)
    assert refused.value.code == "amount_too_large"
    assert "999,999.99 USD" in refused.value.message
    assert "contact sales" in refused.value.message


def test_the_limit_is_in_minor_units_of_each_currency() -> None:
    # 99,999,999 JPY is the largest yen charge; 100,000,000 JPY is refused.
    largest = compute_surcharge(
        Plan(0, 1, "month", "jpy"), Plan(99_999_999, 1, "month", "jpy"), START, AS_OF
    )
    assert largest.amount.amount == 99_999_999
    with pytest.raises(AmountTooLarge, match="99,999,999 JPY"):
        compute_surcharge(
            Plan(0, 1, "month", "jpy"), Plan(100_000_000, 1, "month", "jpy"), START, AS_OF
        )


def test_a_next_invoice_stripe_would_refuse_is_refused_too() -> None:
    # In a trial nothing is charged now, but Stripe's next invoice would be refused.
    with pytest.raises(AmountTooLarge, match="next invoice"):
        compute_surcharge(
            Plan(10000, 5, "month", "usd"),
            Plan(100_000, 100_000, "year", "usd"),
            START,
            AS_OF,
            trial=True,
        )
