"""The upgrade's discount field with Stripe promotion codes (a fake gateway, a real SQLite
database): looked up before any lock, checked by name, priced with Stripe's rounding at the
estimate and again at the charge, carried by the invoice, and refused by Stripe without a
charge. seatflow's own code of the same text wins."""

from __future__ import annotations

from fractions import Fraction

import pytest

from domain import errors
from domain.commands import RetryPayment
from domain.discounts import percent_of
from domain.promotions import Coupon, PromotionCode
from domain.upgrades import FailureKind, failure_kind
from services import admin
from services.upgrades import charge as upgrade_charge
from tests.unit.services.test_upgrade_payment import estimate, pay, submit

GROSS = 90486  # the documents' example: $100 monthly → $1,000 yearly on 2022-01-11
THIRD = Coupon("co_third", percent_off=Fraction("33.33"))


def stripe_code(gateway, code="SPRING33", coupon=THIRD, **kw) -> PromotionCode:
    promo = PromotionCode(id=f"promo_{code.lower()}", code=code, coupon=coupon, **kw)
    gateway.promotion_codes[promo.id] = promo
    return promo


def test_a_stripe_code_is_priced_with_stripes_rounding(uow, deps, world, gateway) -> None:
    promo = stripe_code(gateway)
    e = estimate(uow, deps, world, discount_code=" spring33 ")
    off = percent_of(GROSS, Fraction("33.33"))  # 30158.9838 → 30159
    assert (e.before_discount, e.discount_amount, e.amount) == (GROSS, 30159, GROSS - 30159)
    assert off == 30159
    assert (e.discount_code, e.promotion_code_id) == ("SPRING33", promo.id)
    assert gateway.lookups == ["SPRING33"]  # one canonical form, asked once


def test_a_local_code_of_the_same_text_wins_and_stripe_is_not_asked(
    uow, deps, world, gateway
) -> None:
    stripe_code(gateway, "SPRING", Coupon("co_half", percent_off=Fraction(50)))
    admin.create_discount(uow, "spring", 10, None, None, None, None)
    e = estimate(uow, deps, world, discount_code="SPRING")
    assert (e.discount_amount, e.promotion_code_id) == (percent_of(GROSS, 10), None)
    assert gateway.lookups == []


def test_a_code_nobody_has_is_refused_by_name(uow, deps, world, gateway) -> None:
    with pytest.raises(errors.DiscountCodeInvalid):
        estimate(uow, deps, world, discount_code="NOWHERE")
    assert gateway.lookups == ["NOWHERE"]


@pytest.mark.parametrize(
    "kw, error",
    [
        ({"active": False}, errors.DiscountCodeInactive),
        ({"max_redemptions": 1, "times_redeemed": 1}, errors.DiscountCodeExhausted),
        ({"customer_id": "cus_other"}, errors.DiscountCodeOtherCustomer),
        ({"first_time_only": True}, errors.DiscountCodeFirstTimeOnly),
        ({"minimums": (("usd", GROSS + 1),)}, errors.DiscountCodeMinimumAmount),
        (
            {"coupon": Coupon("co_eur", amounts_off=(("eur", 500),))},
            errors.DiscountCodeCurrency,
        ),
    ],
)
def test_each_restriction_refuses_the_estimate_by_name(
    uow, deps, world, gateway, kw, error
) -> None:
    gateway.paid_customers.add("cus_acme")
    stripe_code(gateway, **kw)
    with pytest.raises(error) as err:
        estimate(uow, deps, world, discount_code="SPRING33")
    assert isinstance(err.value, errors.DiscountNotUsable)


def test_an_expired_code_is_refused(uow, deps, world, gateway, clock) -> None:
    stripe_code(gateway, expires_at=clock.now())
    with pytest.raises(errors.DiscountCodeExpired):
        estimate(uow, deps, world, discount_code="SPRING33")


def test_the_invoice_carries_the_code_and_the_amount_before_its_discount(
    uow, deps, world, gateway
) -> None:
    promo = stripe_code(gateway)
    e = estimate(uow, deps, world, discount_code="SPRING33")
    upgrade, _ = submit(uow, deps, world, e.id)
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "awaiting_payment"
    [charge] = gateway.charges
    assert (charge["amount"], charge["promotion_code"]) == (GROSS, promo.id)
    with uow:
        found = uow.upgrades.get(upgrade.id)
        assert (found.charged_amount, found.discount_amount) == (e.amount, e.discount_amount)
        assert found.promotion_code_id == promo.id
    pay(uow, deps, upgrade.id, e.amount)
    with uow:
        assert uow.upgrades.get(upgrade.id).state == "applied"


def test_the_charge_recomputed_later_takes_the_discount_the_same_way(
    uow, deps, world, gateway, clock
) -> None:
    stripe_code(gateway)
    e = estimate(uow, deps, world, discount_code="SPRING33")
    upgrade, _ = submit(uow, deps, world, e.id)
    clock.advance(hours=5)  # the surcharge moved meanwhile
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    [charge] = gateway.charges
    gross = charge["amount"]
    assert gross != GROSS
    with uow:
        found = uow.upgrades.get(upgrade.id)
    assert found.discount_amount == percent_of(gross, Fraction("33.33"))
    assert found.charged_amount == gross - found.discount_amount
    assert found.drift == e.amount - found.charged_amount


def test_a_code_no_longer_usable_at_the_charge_fails_it_by_name_before_any_invoice(
    uow, deps, world, gateway
) -> None:
    promo = stripe_code(gateway)
    e = estimate(uow, deps, world, discount_code="SPRING33")
    upgrade, _ = submit(uow, deps, world, e.id)
    gateway.promotion_codes[promo.id] = PromotionCode(
        id=promo.id, code=promo.code, coupon=THIRD, active=False
    )
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "payment_failed"
    assert gateway.charges == [] and gateway.payments == []
    with uow:
        reason = uow.upgrades.get(upgrade.id).failure_reason
    assert reason.startswith("discount_code_inactive:")
    assert failure_kind(reason) is FailureKind.RULE


def test_stripe_refusing_the_code_on_the_invoice_fails_the_upgrade_by_name(
    uow, deps, world, gateway
) -> None:
    stripe_code(gateway)
    gateway.refuse_code = errors.PromotionCodeRefused("Stripe refused the promotion code")
    e = estimate(uow, deps, world, discount_code="SPRING33")
    upgrade, _ = submit(uow, deps, world, e.id)
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "payment_failed"
    assert gateway.charges == [] and gateway.payments == []
    with uow:
        reason = uow.upgrades.get(upgrade.id).failure_reason
    assert reason.startswith("promotion_code_refused:")
    with pytest.raises(errors.EstimateStale) as err:  # paying again cannot help
        upgrade_charge.retry_payment(
            RetryPayment(world.org_id, world.owner["id"], upgrade.id), uow, deps
        )
    assert "refused" in str(err.value)


def test_stripe_refusing_the_code_at_payment_voids_the_invoice(uow, deps, world, gateway) -> None:
    stripe_code(gateway)
    gateway.refuse_pay = errors.PromotionCodeRefused("redeemed the maximum number of times")
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world, discount_code="SPRING33").id)
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "payment_failed"
    assert gateway.voided == [f"in_{upgrade.id}"]
    with uow:
        found = uow.upgrades.get(upgrade.id)
    assert found.failure_reason.startswith("promotion_code_refused:")
    assert found.stripe_invoice_id == f"in_{upgrade.id}"


def test_a_code_that_takes_everything_still_makes_the_invoice_stripe_counts(
    uow, deps, world, gateway
) -> None:
    promo = stripe_code(gateway, "ALL", Coupon("co_all", percent_off=Fraction(100)))
    e = estimate(uow, deps, world, discount_code="all")
    assert e.amount == 0
    upgrade, _ = submit(uow, deps, world, e.id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    [charge] = gateway.charges
    assert (charge["amount"], charge["promotion_code"]) == (GROSS, promo.id)


def test_a_stripe_code_reserves_and_redeems_no_local_code_of_its_text(
    uow, deps, world, gateway
) -> None:
    stripe_code(gateway)
    e = estimate(uow, deps, world, discount_code="SPRING33")
    upgrade, _ = submit(uow, deps, world, e.id)
    admin.create_discount(uow, "SPRING33", 10, None, None, None, 1)  # made after the estimate
    with uow:
        assert uow.upgrades.reserved("SPRING33") == 0
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    pay(uow, deps, upgrade.id, e.amount)
    with uow:
        assert uow.upgrades.get(upgrade.id).state == "applied"
        assert uow.catalog.discount("SPRING33").times_redeemed == 0


def test_stripe_refusing_to_read_the_code_before_the_charge_fails_it_without_an_invoice(
    uow, deps, world, gateway
) -> None:
    from domain.ports import ChargeRejected

    stripe_code(gateway)
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world, discount_code="SPRING33").id)

    def refused(promotion_code_id: str) -> None:
        raise ChargeRejected("authentication", "Invalid API Key provided")

    gateway.promotion_code = refused  # type: ignore[method-assign]
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "payment_failed"
    assert gateway.charges == []
    with uow:
        reason = uow.upgrades.get(upgrade.id).failure_reason
    assert reason == "authentication: Invalid API Key provided"
    assert failure_kind(reason) is FailureKind.STRIPE_REFUSED


def test_stripe_unavailable_before_the_charge_brings_the_chain_back_later(
    uow, deps, world, gateway
) -> None:
    from domain.ports import ChargeUnavailable

    stripe_code(gateway)
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world, discount_code="SPRING33").id)

    def down(promotion_code_id: str) -> None:
        raise ChargeUnavailable("network", "no route")

    gateway.promotion_code = down  # type: ignore[method-assign]
    with pytest.raises(upgrade_charge.RetryLater):
        upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    with uow:
        assert uow.upgrades.get(upgrade.id).state == "requested"
    del gateway.promotion_code
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "awaiting_payment"
