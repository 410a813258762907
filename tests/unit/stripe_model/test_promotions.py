"""The fake Stripe's coupons and promotion codes, driven with the real `stripe` SDK: created,
listed by code (case-insensitive), restricted, taken off an invoice to the cent, counted when
the invoice is paid, and refused on an invoice once no longer redeemable."""

from __future__ import annotations

import pytest
import stripe

from tests.stripe_model import StripeApiError
from tests.unit.stripe_model.conftest import NOW

EXPAND = ["data.promotion.coupon"]


def invoice_with_code(
    client: stripe.StripeClient,
    customer: str,
    amount: int,
    promotion_code: str,
    key: str = "up1",
    currency: str = "usd",
) -> str:
    """An upgrade's invoice as seatflow makes it: the code on the invoice, one line of the
    amount before the discount, finalized."""
    invoice = client.v1.invoices.create(
        {
            "customer": customer,
            "currency": currency,
            "auto_advance": False,
            "discounts": [{"promotion_code": promotion_code}],
            "metadata": {"upgrade_id": key},
        },
        {"idempotency_key": f"{key}-invoice"},
    )
    client.v1.invoice_items.create(
        {"customer": customer, "invoice": invoice.id, "amount": amount, "currency": currency},
        {"idempotency_key": f"{key}-item"},
    )
    client.v1.invoices.finalize_invoice(invoice.id, {}, {"idempotency_key": f"{key}-finalize"})
    return str(invoice.id)


def pay(client: stripe.StripeClient, invoice_id: str, key: str = "up1") -> str:
    paid = client.v1.invoices.pay(invoice_id, {"off_session": True}, {"idempotency_key": key})
    return str(paid.status)


def test_a_promotion_code_is_created_over_the_api_and_found_by_its_code(state, client) -> None:
    coupon = client.v1.coupons.create({"percent_off": 33.33, "duration": "once"})
    assert (coupon.percent_off, coupon.valid, coupon.times_redeemed) == (33.33, True, 0)
    made = client.v1.promotion_codes.create(
        {
            "promotion": {"type": "coupon", "coupon": coupon.id},
            "code": "Spring33",
            "max_redemptions": 5,
            "restrictions": {"minimum_amount": 1000, "minimum_amount_currency": "usd"},
        }
    )
    assert made.promotion.coupon == coupon.id  # not expanded unless asked
    found = client.v1.promotion_codes.list({"code": "SPRING33", "active": True, "expand": EXPAND})
    [only] = found.data
    assert only.id == made.id and only.code == "Spring33"
    assert only.promotion.coupon.percent_off == 33.33
    assert only.restrictions.minimum_amount == 1000
    assert client.v1.promotion_codes.list({"code": "spring33", "active": False}).data == []
    assert client.v1.promotion_codes.list({"code": "OTHER"}).data == []
    got = client.v1.promotion_codes.retrieve(made.id, {"expand": ["promotion.coupon"]})
    assert got.promotion.coupon.id == coupon.id
    assert [e["type"] for e in state.events_of("*")] == ["coupon.created", "promotion_code.created"]


def test_two_active_codes_of_one_text_are_refused(state, client) -> None:
    coupon = state.create_coupon(percent_off=10)
    state.create_promotion_code(coupon["id"], "TWICE")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.promotion_codes.create(
            {"promotion": {"type": "coupon", "coupon": coupon["id"]}, "code": "twice"}
        )


@pytest.mark.parametrize(
    "amount, percent, off",
    [
        (1001, 33.33, 334),  # 333.6333 rounds up
        (1003, 33.33, 334),  # 334.2999 rounds down
        (1500, 33.33, 500),  # 499.95 rounds up
        (525, 10, 53),  # 52.5: half up, not to even
        (90486, 15, 13573),
    ],
)
def test_a_percent_coupon_is_taken_off_the_invoice_half_up_to_the_cent(
    state, client, amount, percent, off
) -> None:
    customer = state.create_customer("succeeds")["id"]
    coupon = state.create_coupon(percent_off=percent)
    promo = state.create_promotion_code(coupon["id"], "THIRD")
    invoice_id = invoice_with_code(client, customer, amount, promo["id"])
    invoice = state.get("invoice", invoice_id)
    assert (invoice["subtotal"], invoice["total"], invoice["amount_due"]) == (
        amount,
        amount - off,
        amount - off,
    )
    [discount_id] = invoice["discounts"]
    assert invoice["total_discount_amounts"] == [{"amount": off, "discount": discount_id}]
    assert invoice["lines"]["data"][0]["discount_amounts"] == [
        {"amount": off, "discount": discount_id}
    ]
    assert state.get("discount", discount_id)["promotion_code"] == promo["id"]
    assert pay(client, invoice_id) == "paid"
    assert state.captured(invoice=invoice_id) == amount - off


def test_an_amount_coupon_is_capped_at_the_invoice_and_kept_to_its_currency(state, client) -> None:
    customer = state.create_customer("succeeds")["id"]
    coupon = state.create_coupon(amount_off=5000, currency="usd")
    promo = state.create_promotion_code(coupon["id"], "FIFTY")
    small = invoice_with_code(client, customer, 3000, promo["id"])
    assert state.get("invoice", small)["total"] == 0
    assert state.get("invoice", small)["status"] == "paid"  # nothing due
    assert state.captured(customer=customer) == 0
    with pytest.raises(stripe.InvalidRequestError) as err:
        invoice_with_code(client, customer, 9000, promo["id"], key="up2", currency="eur")
    assert err.value.param == "discounts"


def test_a_redemption_is_counted_when_the_invoice_is_paid(state, client) -> None:
    customer = state.create_customer("succeeds")["id"]
    coupon = state.create_coupon(percent_off=10)
    promo = state.create_promotion_code(coupon["id"], "ONCE", max_redemptions=1)
    invoice_id = invoice_with_code(client, customer, 10000, promo["id"])
    assert state.get("promotion_code", promo["id"])["times_redeemed"] == 0  # finalized only
    pay(client, invoice_id)
    assert state.get("promotion_code", promo["id"])["times_redeemed"] == 1
    assert state.get("coupon", coupon["id"])["times_redeemed"] == 1


def test_a_code_redeemed_out_meanwhile_is_refused_at_payment_and_nothing_is_charged(
    state, client
) -> None:
    """Two invoices carry a single-use code; the second to be paid is refused."""
    first = state.create_customer("succeeds")["id"]
    second = state.create_customer("succeeds")["id"]
    coupon = state.create_coupon(percent_off=10)
    promo = state.create_promotion_code(coupon["id"], "ONCE", max_redemptions=1)
    one = invoice_with_code(client, first, 10000, promo["id"], key="a")
    two = invoice_with_code(client, second, 10000, promo["id"], key="b")
    pay(client, one, key="a")
    with pytest.raises(stripe.InvalidRequestError) as err:
        pay(client, two, key="b")
    assert err.value.param == "discounts"
    assert state.get("invoice", two)["status"] == "open"
    assert state.captured(customer=second) == 0
    assert state.get("promotion_code", promo["id"])["times_redeemed"] == 1


def test_a_code_deactivated_before_finalizing_is_refused_and_the_invoice_stays_a_draft(
    state, client
) -> None:
    customer = state.create_customer("succeeds")["id"]
    promo = state.create_promotion_code(state.create_coupon(percent_off=10)["id"], "GONE")
    invoice = client.v1.invoices.create(
        {"customer": customer, "currency": "usd", "discounts": [{"promotion_code": promo["id"]}]}
    )
    client.v1.invoice_items.create(
        {"customer": customer, "invoice": invoice.id, "amount": 10000, "currency": "usd"}
    )
    state.dashboard_promotion_code(promo["id"], active=False)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.finalize_invoice(invoice.id)
    assert state.get("invoice", invoice.id)["status"] == "draft"
    assert state.events_of("promotion_code.updated")[0]["data"]["previous_attributes"] == {
        "active": True
    }


@pytest.mark.parametrize(
    "restriction",
    [
        {"expires_at": NOW},
        {"customer": "other"},
        {"minimum_amount": 10001, "minimum_amount_currency": "usd"},
        {"first_time_transaction": True},
    ],
)
def test_each_restriction_refuses_the_code_on_an_invoice(state, client, restriction) -> None:
    customer = state.create_customer("succeeds")["id"]
    if restriction.get("customer") == "other":
        restriction = {"customer": state.create_customer("succeeds")["id"]}
    if restriction.get("first_time_transaction"):
        earlier = state.create_promotion_code(state.create_coupon(percent_off=1)["id"], "FIRST")
        pay(client, invoice_with_code(client, customer, 500, earlier["id"], "e"), key="e")
    promo = state.create_promotion_code(
        state.create_coupon(percent_off=10)["id"], "LIMITED", **restriction
    )
    with pytest.raises(stripe.InvalidRequestError) as err:
        invoice_with_code(client, customer, 10000, promo["id"])
    assert err.value.param == "discounts"


def test_a_minimum_amount_is_met_by_the_subtotal_before_the_discount(state, client) -> None:
    customer = state.create_customer("succeeds")["id"]
    promo = state.create_promotion_code(
        state.create_coupon(percent_off=10)["id"],
        "MIN100",
        minimum_amount=10000,
        minimum_amount_currency="usd",
    )
    assert pay(client, invoice_with_code(client, customer, 10000, promo["id"])) == "paid"
    assert state.captured(customer=customer) == 9000


def test_a_first_time_code_is_redeemed_by_a_customer_who_never_paid(state, client) -> None:
    customer = state.create_customer("succeeds")["id"]
    promo = state.create_promotion_code(
        state.create_coupon(percent_off=10)["id"], "WELCOME", first_time_transaction=True
    )
    assert pay(client, invoice_with_code(client, customer, 10000, promo["id"])) == "paid"
    assert state.captured(customer=customer) == 9000


def test_completing_3d_secure_is_refused_once_the_code_was_redeemed_out(state, client) -> None:
    waiting = state.create_customer("requires_action")["id"]
    first = state.create_customer("succeeds")["id"]
    promo = state.create_promotion_code(
        state.create_coupon(percent_off=10)["id"], "ONCE", max_redemptions=1
    )
    held = invoice_with_code(client, waiting, 10000, promo["id"], key="held")
    with pytest.raises(stripe.CardError):
        pay(client, held, key="held")
    pay(client, invoice_with_code(client, first, 10000, promo["id"], key="a"), key="a")
    with pytest.raises(StripeApiError):
        state.complete_3ds(held)
    assert state.captured(customer=waiting) == 0
    assert state.get("promotion_code", promo["id"])["times_redeemed"] == 1
