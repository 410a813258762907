"""Stripe promotion codes through seatflow's gateway, against the stateful fake Stripe: looked
up by code and made typed at the door, carried by the upgrade invoice, taken off to the cent
as the estimate computes it (values that round both ways), refused by name when Stripe
refuses them, with what the fake Stripe received and captured."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from fractions import Fraction

import pytest

from adapters.stripe_gateway import StripeGateway
from domain import errors
from domain.promotions import PromotionCode
from tests.fakes import open_and_pay, open_invoice
from tests.stripe_model import Clock, StripeServer, StripeState

NOW = 1641859200  # 2022-01-11T00:00:00Z


@pytest.fixture
def stripe_fake() -> Iterator[StripeServer]:
    with StripeServer(StripeState(Clock(frozen=NOW))) as server:
        yield server


@pytest.fixture
def state(stripe_fake: StripeServer) -> StripeState:
    return stripe_fake.state


@pytest.fixture
def gateway(stripe_fake: StripeServer) -> StripeGateway:
    return StripeGateway("sk_test_seatflow", stripe_fake.url, max_network_retries=0)


def charge(gateway, customer: str, amount: int, promo: str | None, upgrade_id: str = "up1"):
    return open_and_pay(
        gateway,
        upgrade_id=upgrade_id,
        customer_id=customer,
        amount=amount,
        currency="usd",
        description="Upgrade node_locked",
        metadata={"organization_id": "org_1", "upgrade_id": upgrade_id},
        promotion_code=promo,
    )


def test_a_code_is_found_case_insensitively_and_typed_at_the_door(
    stripe_fake, state, gateway
) -> None:
    customer = state.create_customer("succeeds")["id"]
    coupon = state.create_coupon(percent_off=33.33, max_redemptions=10, redeem_by=NOW + 86400)
    made = state.create_promotion_code(
        coupon["id"],
        "Spring33",
        max_redemptions=3,
        expires_at=NOW + 3600,
        first_time_transaction=True,
        minimum_amount=1000,
        minimum_amount_currency="usd",
    )
    found = gateway.find_promotion_code(code="SPRING33", customer_id=customer)
    assert isinstance(found, PromotionCode)
    assert (found.id, found.code, found.active) == (made["id"], "SPRING33", True)
    assert found.coupon.percent_off == Fraction(3333, 100)
    assert (found.coupon.max_redemptions, found.coupon.redeem_by) == (
        10,
        datetime.fromtimestamp(NOW + 86400, UTC),
    )
    assert (found.max_redemptions, found.times_redeemed, found.first_time_only) == (3, 0, True)
    assert found.expires_at == datetime.fromtimestamp(NOW + 3600, UTC)
    assert found.minimums == (("usd", 1000),)
    [lookup] = stripe_fake.requests("GET", "/v1/promotion_codes")
    assert lookup.params["code"] == "SPRING33"
    assert lookup.params["active"] == "true"
    assert gateway.find_promotion_code(code="NOPE", customer_id=customer) is None


def test_an_inactive_code_is_found_so_that_it_is_refused_by_name(state, gateway) -> None:
    promo = state.create_promotion_code(state.create_coupon(percent_off=5)["id"], "OLD")
    state.dashboard_promotion_code(promo["id"], active=False)
    found = gateway.find_promotion_code(code="OLD", customer_id="cus_x")
    assert found is not None and not found.active


def test_the_code_meant_for_this_customer_is_chosen(state, gateway) -> None:
    mine = state.create_customer("succeeds")["id"]
    theirs = state.create_customer("succeeds")["id"]
    coupon = state.create_coupon(percent_off=5)["id"]
    other = state.create_promotion_code(coupon, "VIP", customer=theirs)
    own = state.create_promotion_code(coupon, "VIP", customer=mine)
    assert gateway.find_promotion_code(code="VIP", customer_id=mine).id == own["id"]
    assert gateway.find_promotion_code(code="VIP", customer_id=theirs).id == other["id"]
    found = gateway.find_promotion_code(code="VIP", customer_id="cus_nobody")
    assert found is not None and found.customer_id in (mine, theirs)


def test_an_amount_coupon_keeps_its_currencies(state, gateway) -> None:
    coupon = state.create_coupon(
        amount_off=500, currency="usd", currency_options={"eur": {"amount_off": 450}}
    )
    state.create_promotion_code(coupon["id"], "FIVE")
    found = gateway.find_promotion_code(code="five", customer_id=None)
    assert found is not None
    assert dict(found.coupon.amounts_off) == {"usd": 500, "eur": 450}
    assert found.coupon.percent_off is None


def test_a_coupon_for_some_products_only_is_refused_by_name(state, gateway) -> None:
    coupon = state.create_coupon(percent_off=20, applies_to={"products": ["prod_x"]})
    state.create_promotion_code(coupon["id"], "PRODUCT")
    with pytest.raises(errors.DiscountCodeUnsupported):
        gateway.find_promotion_code(code="PRODUCT", customer_id=None)


def test_a_code_is_retrieved_by_its_id(state, gateway) -> None:
    promo = state.create_promotion_code(state.create_coupon(percent_off=5)["id"], "BYID")
    found = gateway.promotion_code(promo["id"])
    assert found is not None and (found.id, found.code) == (promo["id"], "BYID")
    assert gateway.promotion_code("promo_missing") is None


def test_whether_a_customer_ever_paid(state, gateway) -> None:
    customer = state.create_customer("succeeds")["id"]
    assert gateway.customer_has_paid(customer) is False
    charge(gateway, customer, 5000, None)
    assert gateway.customer_has_paid(customer) is True


@pytest.mark.parametrize(
    "gross, percent",
    [
        (1001, "33.33"),  # 333.6333 → 334 (down)
        (1003, "33.33"),  # 334.2999 → 334 (down)
        (1500, "33.33"),  # 499.95 → 500 (up)
        (1502, "33.33"),  # 500.6166 → 501 (up)
        (525, "10"),  # 52.5 → 53 (half up)
        (90486, "15"),  # 13572.9 → 13573
        (90486, "12.5"),  # 11310.75 → 11311
    ],
)
def test_the_estimate_and_stripes_invoice_agree_to_the_cent(
    stripe_fake, state, gateway, gross, percent
) -> None:
    customer = state.create_customer("succeeds")["id"]
    state.create_promotion_code(state.create_coupon(percent_off=float(percent))["id"], "ROUND")
    promo = gateway.find_promotion_code(code="ROUND", customer_id=customer)
    assert promo is not None
    estimated = gross - promo.take_off(gross, "usd")

    result = charge(gateway, customer, gross, promo.id)

    invoice = state.get("invoice", result.invoice_id)
    assert result.paid and result.amount_paid == estimated
    assert (invoice["subtotal"], invoice["total"]) == (gross, estimated)
    assert state.captured(invoice=result.invoice_id) == estimated
    [create] = stripe_fake.requests("POST", "/v1/invoices")
    assert create.params["discounts"] == [{"promotion_code": promo.id}]
    [item] = stripe_fake.requests("POST", "/v1/invoiceitems")
    assert item.params["amount"] == str(gross)
    assert state.get("promotion_code", promo.id)["times_redeemed"] == 1


def test_an_amount_coupon_agrees_to_the_cent_and_never_goes_below_zero(state, gateway) -> None:
    customer = state.create_customer("succeeds")["id"]
    state.create_promotion_code(
        state.create_coupon(amount_off=2500, currency="usd")["id"], "AMOUNT"
    )
    promo = gateway.find_promotion_code(code="AMOUNT", customer_id=customer)
    assert promo is not None
    assert charge(gateway, customer, 9001, promo.id).amount_paid == 9001 - 2500
    assert promo.take_off(2000, "usd") == 2000
    free = charge(gateway, customer, 2000, promo.id, upgrade_id="up2")
    assert free.paid and free.amount_paid == 0
    assert state.get("invoice", free.invoice_id)["total"] == 0


def test_a_code_deactivated_before_the_invoice_is_refused_by_name(
    stripe_fake, state, gateway
) -> None:
    customer = state.create_customer("succeeds")["id"]
    promo = state.create_promotion_code(state.create_coupon(percent_off=10)["id"], "GONE")
    state.dashboard_promotion_code(promo["id"], active=False)
    with pytest.raises(errors.PromotionCodeRefused) as err:
        charge(gateway, customer, 10000, promo["id"])
    assert "not active" in str(err.value)
    assert stripe_fake.requests("POST", "/v1/invoices/*/pay") == []
    assert state.captured(customer=customer) == 0


def test_a_code_redeemed_out_before_payment_is_refused_by_name_nothing_charged(
    stripe_fake, state, gateway
) -> None:
    first = state.create_customer("succeeds")["id"]
    second = state.create_customer("succeeds")["id"]
    promo = state.create_promotion_code(
        state.create_coupon(percent_off=10)["id"], "ONCE", max_redemptions=1
    )
    invoice_id = open_invoice(
        gateway,
        upgrade_id="late",
        customer_id=second,
        amount=10000,
        currency="usd",
        description="Upgrade",
        metadata={"upgrade_id": "late"},
        promotion_code=promo["id"],
    )
    assert charge(gateway, first, 10000, promo["id"]).paid  # takes the last redemption
    with pytest.raises(errors.PromotionCodeRefused):
        gateway.pay_invoice(upgrade_id="late", invoice_id=invoice_id)
    assert state.get("invoice", invoice_id)["status"] == "open"
    assert state.captured(customer=second) == 0
    assert state.get("promotion_code", promo["id"])["times_redeemed"] == 1
