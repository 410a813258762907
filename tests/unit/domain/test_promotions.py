"""Stripe's promotion codes as the domain reads them: what they take off (Stripe's rounding,
to the cent) and every restriction, each refused by a named error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from domain import errors
from domain.discounts import Discount, percent_of
from domain.promotions import Coupon, PromotionCode

NOW = datetime(2022, 1, 11, tzinfo=UTC)


def code(**kw) -> PromotionCode:
    coupon = kw.pop("coupon", Coupon("co_1", percent_off=Fraction(10)))
    return PromotionCode(id="promo_1", code="SPRING", coupon=coupon, **kw)


@pytest.mark.parametrize(
    "amount, percent, off",
    [
        (1001, "33.33", 334),  # 333.6333 rounds up
        (1003, "33.33", 334),  # 334.2999 rounds down
        (1500, "33.33", 500),  # 499.95: half and more rounds up
        (15, "10", 2),  # 1.5: exactly half rounds up
        (25, "10", 3),  # 2.5: half up, not to even
        (14, "10", 1),
        (1, "12.5", 0),  # 0.125
        (4, "12.5", 1),  # 0.5
        (90486, "15", 13573),  # 13572.9
        (7, "100", 7),
    ],
)
def test_percent_off_is_half_up_to_the_minor_unit(amount, percent, off) -> None:
    assert percent_of(amount, Fraction(percent)) == off


def test_a_local_code_and_a_stripe_coupon_of_the_same_percent_take_off_the_same() -> None:
    local = Discount(code="TEN", percent_off=10)
    stripe = code(coupon=Coupon("co_ten", percent_off=Fraction(10)))
    for gross in (1, 5, 15, 25, 99, 90486):
        assert local.take_off(gross, "usd") == stripe.take_off(gross, "usd")


def test_a_percent_coupon_with_decimals_takes_off_its_exact_share() -> None:
    promo = code(coupon=Coupon("co_third", percent_off=Fraction("33.33")))
    assert (promo.take_off(1001, "usd"), promo.take_off(1003, "usd")) == (334, 334)


def test_an_amount_coupon_takes_its_amount_in_the_invoice_currency_never_more() -> None:
    coupon = Coupon("co_5", amounts_off=(("usd", 500), ("eur", 450)))
    assert code(coupon=coupon).take_off(9000, "usd") == 500
    assert code(coupon=coupon).take_off(9000, "EUR") == 450
    assert code(coupon=coupon).take_off(300, "usd") == 300


def test_an_amount_coupon_in_another_currency_is_refused() -> None:
    coupon = Coupon("co_5", amounts_off=(("eur", 500),))
    with pytest.raises(errors.DiscountCodeCurrency) as err:
        code(coupon=coupon).take_off(9000, "usd")
    assert err.value.code == "discount_code_currency"
    assert isinstance(err.value, errors.CurrencyMismatch)  # still a currency mismatch


def test_a_local_amount_code_in_another_currency_is_refused_by_the_same_name() -> None:
    with pytest.raises(errors.DiscountCodeCurrency):
        Discount(code="EURO", amount_off=500, currency="eur").take_off(9000, "usd")


def test_a_minimum_amount_is_checked_before_the_discount_in_its_currency() -> None:
    promo = code(minimums=(("usd", 10000),))
    assert promo.take_off(10000, "usd") == 1000
    with pytest.raises(errors.DiscountCodeMinimumAmount) as err:
        promo.take_off(9999, "usd")
    assert "100.00 USD" in str(err.value)
    with pytest.raises(errors.DiscountCodeCurrency):
        promo.take_off(90000, "eur")


@pytest.mark.parametrize(
    "kw, error",
    [
        ({"active": False}, errors.DiscountCodeInactive),
        (
            {"coupon": Coupon("co", percent_off=Fraction(5), valid=False)},
            errors.DiscountCodeInactive,
        ),
        ({"expires_at": NOW}, errors.DiscountCodeExpired),
        (
            {"coupon": Coupon("co", percent_off=Fraction(5), redeem_by=NOW - timedelta(1))},
            errors.DiscountCodeExpired,
        ),
        ({"max_redemptions": 2, "times_redeemed": 2}, errors.DiscountCodeExhausted),
        (
            {"coupon": Coupon("co", percent_off=Fraction(5), max_redemptions=1, times_redeemed=1)},
            errors.DiscountCodeExhausted,
        ),
        ({"customer_id": "cus_other"}, errors.DiscountCodeOtherCustomer),
    ],
)
def test_each_restriction_is_a_named_refusal(kw, error) -> None:
    with pytest.raises(error) as err:
        code(**kw).check_usable(NOW, "cus_acme", paid_before=False)
    assert isinstance(err.value, errors.DiscountNotUsable)
    assert "SPRING" in str(err.value)


def test_a_first_time_code_is_for_a_customer_who_never_paid() -> None:
    promo = code(first_time_only=True)
    promo.check_usable(NOW, "cus_acme", paid_before=False)
    with pytest.raises(errors.DiscountCodeFirstTimeOnly):
        promo.check_usable(NOW, "cus_acme", paid_before=True)


def test_a_usable_code_passes_every_check() -> None:
    promo = code(
        expires_at=NOW + timedelta(seconds=1),
        max_redemptions=2,
        times_redeemed=1,
        customer_id="cus_acme",
    )
    promo.check_usable(NOW, "cus_acme", paid_before=True)
