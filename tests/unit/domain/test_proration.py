"""The surcharge formula, table-driven: the documents' example, month ends, leap years."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.cycles import add_months, cycle_end, whole_minutes
from domain.discounts import Discount
from domain.errors import CurrencyMismatch
from domain.money import Money, div_half_up
from domain.proration import Plan, compute_surcharge


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


MONTHLY_100 = Plan(unit_amount=10000, seats=1, interval="month", currency="usd")
YEARLY_1000 = Plan(unit_amount=100000, seats=1, interval="year", currency="usd")


def test_the_documents_example_at_the_end_of_january_10() -> None:
    s = compute_surcharge(MONTHLY_100, YEARLY_1000, at(2022, 1, 1), at(2022, 1, 11))
    assert (s.old_unused_minutes, s.old_total_minutes) == (21 * 1440, 31 * 1440)
    assert (s.new_unused_minutes, s.new_total_minutes) == (355 * 1440, 365 * 1440)
    assert (s.new_term.amount, s.old_term.amount) == (97260, 6774)
    assert s.amount == Money(90486, "usd")
    assert s.next_invoice_at == at(2023, 1, 1)
    assert s.next_invoice_amount == Money(100000, "usd")


def test_the_documents_example_at_the_start_of_january_10() -> None:
    s = compute_surcharge(MONTHLY_100, YEARLY_1000, at(2022, 1, 1), at(2022, 1, 10))
    assert (s.new_term.amount, s.old_term.amount, s.amount.amount) == (97534, 7097, 90437)


def test_unused_time_counts_whole_minutes_rounded_down() -> None:
    a = compute_surcharge(MONTHLY_100, YEARLY_1000, at(2022, 1, 1), at(2022, 1, 11, 0, 0, 0))
    b = compute_surcharge(MONTHLY_100, YEARLY_1000, at(2022, 1, 1), at(2022, 1, 11, 0, 0, 59))
    c = compute_surcharge(MONTHLY_100, YEARLY_1000, at(2022, 1, 1), at(2022, 1, 11, 0, 1, 0))
    assert a.old_unused_minutes == 30240
    assert b.old_unused_minutes == 30239  # 59 s into the minute: that minute is not unused
    assert c.old_unused_minutes == 30239


def test_more_seats_on_the_same_cycle_charge_the_difference_for_the_rest_of_it() -> None:
    old = Plan(1000, 5, "month", "usd")
    new = Plan(1000, 8, "month", "usd")
    s = compute_surcharge(old, new, at(2022, 3, 1), at(2022, 3, 17))
    # 15 of 31 days left: 8000×15/31 − 5000×15/31 = 3870.97 − 2419.35 → 3871 − 2419
    assert (s.new_term.amount, s.old_term.amount, s.amount.amount) == (3871, 2419, 1452)
    assert s.next_invoice_at == at(2022, 4, 1)
    assert s.next_invoice_amount.amount == 8000


@pytest.mark.parametrize(
    "start, interval, end",
    [
        (at(2022, 1, 31), "month", at(2022, 2, 28)),
        (at(2024, 1, 31), "month", at(2024, 2, 29)),
        (at(2022, 3, 31), "month", at(2022, 4, 30)),
        (at(2022, 12, 15, 9, 30), "month", at(2023, 1, 15, 9, 30)),
        (at(2024, 2, 29), "year", at(2025, 2, 28)),
        (at(2024, 2, 29), "month", at(2024, 3, 29)),
        (at(2023, 3, 1), "year", at(2024, 3, 1)),
    ],
)
def test_cycles_end_on_the_same_day_clamped_to_the_month(start, interval, end) -> None:
    assert cycle_end(start, interval) == end


def test_a_leap_year_cycle_has_366_days_of_minutes() -> None:
    s = compute_surcharge(
        Plan(10000, 1, "month", "usd"),
        Plan(100000, 1, "year", "usd"),
        at(2024, 1, 1),
        at(2024, 1, 1),
    )
    assert s.new_total_minutes == 366 * 1440
    assert s.new_unused_minutes == s.new_total_minutes  # nothing used yet
    assert s.amount.amount == 100000 - 10000


def test_february_in_a_leap_year_has_29_days_of_minutes() -> None:
    s = compute_surcharge(
        Plan(2900, 1, "month", "usd"), Plan(5800, 1, "month", "usd"), at(2024, 2, 1), at(2024, 2, 2)
    )
    assert s.old_total_minutes == 29 * 1440
    assert (s.old_term.amount, s.new_term.amount) == (2800, 5600)


def test_in_trial_the_change_is_free() -> None:
    s = compute_surcharge(MONTHLY_100, YEARLY_1000, at(2022, 1, 1), at(2022, 1, 11), trial=True)
    assert s.amount.amount == 0
    assert s.trial


def test_a_percent_discount_rounds_half_up() -> None:
    # 90486 × 15% = 13572.9 → 13573
    d = Discount(code="SAVE15", percent_off=15)
    s = compute_surcharge(MONTHLY_100, YEARLY_1000, at(2022, 1, 1), at(2022, 1, 11), discount=d)
    assert (s.before_discount.amount, s.discount.amount, s.amount.amount) == (90486, 13573, 76913)


def test_an_amount_discount_never_makes_the_surcharge_negative() -> None:
    d = Discount(code="BIG", amount_off=10**7, currency="usd")
    s = compute_surcharge(MONTHLY_100, YEARLY_1000, at(2022, 1, 1), at(2022, 1, 11), discount=d)
    assert s.amount.amount == 0


def test_an_amount_discount_in_another_currency_is_refused() -> None:
    d = Discount(code="EURO", amount_off=500, currency="eur")
    with pytest.raises(CurrencyMismatch):
        compute_surcharge(MONTHLY_100, YEARLY_1000, at(2022, 1, 1), at(2022, 1, 11), discount=d)


def test_prices_in_two_currencies_are_refused() -> None:
    with pytest.raises(CurrencyMismatch) as err:
        compute_surcharge(MONTHLY_100, Plan(1, 1, "year", "eur"), at(2022, 1, 1), at(2022, 1, 2))
    assert err.value.code == "currency_mismatch"


def test_a_cheaper_result_is_zero_never_a_credit() -> None:
    s = compute_surcharge(
        Plan(10000, 1, "month", "usd"),
        Plan(10000, 1, "month", "usd"),
        at(2022, 1, 1),
        at(2022, 1, 5),
    )
    assert s.amount.amount == 0


@pytest.mark.parametrize(
    "num, den, expected",
    [(5, 10, 1), (4, 10, 0), (15, 10, 2), (25, 10, 3), (0, 7, 0), (-5, 10, -1)],
)
def test_div_half_up(num: int, den: int, expected: int) -> None:
    assert div_half_up(num, den) == expected


@given(st.integers(0, 10**12), st.integers(1, 10**9))
def test_div_half_up_matches_exact_rounding(num: int, den: int) -> None:
    from fractions import Fraction

    exact = Fraction(num, den)
    result = div_half_up(num, den)
    assert abs(Fraction(result) - exact) <= Fraction(1, 2)
    if exact - int(exact) == Fraction(1, 2):
        assert result == int(exact) + 1


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)), st.integers(0, 36)
)
def test_add_months_lands_within_the_target_month(moment: datetime, months: int) -> None:
    result = add_months(moment, months)
    assert (result.year * 12 + result.month) - (moment.year * 12 + moment.month) == months
    assert result.day <= moment.day
    assert whole_minutes(result, moment) == 0 or months == 0


@pytest.mark.parametrize(
    "seats, old_term, new_term, amount",
    [
        # $10.01 a month, half of April left: 1001 × ½ = 500.5 → 501 (half-up, not to even)
        (2, 501, 1001, 500),
        # 3003 × ½ = 1501.5 → 1502; both terms land on half a cent
        (3, 501, 1502, 1001),
    ],
)
def test_terms_that_land_on_half_a_cent_round_up(seats, old_term, new_term, amount) -> None:
    april, mid_april = datetime(2022, 4, 1, tzinfo=UTC), datetime(2022, 4, 16, tzinfo=UTC)
    s = compute_surcharge(
        Plan(1001, 1, "month", "usd"), Plan(1001, seats, "month", "usd"), april, mid_april
    )
    assert (s.old_unused_minutes * 2, s.old_total_minutes) == (30 * 1440, 30 * 1440)
    assert (s.old_term.amount, s.new_term.amount, s.amount.amount) == (old_term, new_term, amount)
