"""Upgrades with Stripe promotion codes end to end: seatflow's real services (SQLite) against
the stateful fake Stripe over HTTP, Stripe's own events delivered. What Stripe received and
captured, in exact cents; a code Stripe refuses at payment time ends as a named error with
nothing charged.

The documents' example throughout: $100 monthly from 2022-01-01 to $1,000 yearly as of
2022-01-11T00:00Z, a surcharge of 90486 cents before any discount.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from config.database import make_engine
from domain import errors
from services import admin
from tests.fakes import with_gateway
from tests.money_world import MoneyWorld, money_world
from tests.stripe_model import Clock, StripeServer, StripeState

JAN_1 = 1640995200  # 2022-01-01T00:00:00Z
JAN_11 = 1641859200  # 2022-01-11T00:00:00Z
GROSS = 90486


@pytest.fixture
def engine(sqlite_settings) -> Iterator[Engine]:
    engine = make_engine(sqlite_settings)
    yield engine
    engine.dispose()


@pytest.fixture
def server() -> Iterator[StripeServer]:
    with StripeServer(StripeState(Clock(frozen=JAN_11))) as running:
        yield running


@pytest.fixture
def world(engine, server) -> MoneyWorld:
    return money_world(engine, server, period_start=JAN_1)


def promotion(world: MoneyWorld, code: str, **kw: Any) -> dict[str, Any]:
    coupon_terms = {k: kw.pop(k) for k in ("percent_off", "amount_off", "currency") if k in kw}
    return world.state.create_promotion_code(
        world.state.create_coupon(**coupon_terms)["id"], code, **kw
    )


def upgrade_with(world: MoneyWorld, code: str | None) -> str:
    upgrade = world.submit(world.estimate(1, "year", code))
    state = world.charge(upgrade.id)
    world.deliver()
    return state


def paid_invoices(world: MoneyWorld) -> list[dict[str, Any]]:
    return [i for i in world.invoices() if i["status"] == "paid"]


class Meddling:
    """The gateway, with something done at Stripe just before one of its calls: what someone
    else does between seatflow's check and Stripe's."""

    def __init__(self, inner: Any, call: str, before: Callable[[], object]) -> None:
        self.inner, self.call, self.before = inner, call, before

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name != self.call:
            return attr

        def meddled(*args: Any, **kwargs: Any) -> Any:
            self.before()
            return attr(*args, **kwargs)

        return meddled


def meddle(world: MoneyWorld, call: str, before: Callable[[], object]) -> None:
    inner = world.deps.gateway.inner  # type: ignore[attr-defined]
    world.deps = with_gateway(world.deps, Meddling(inner, call, before))


def someone_else_redeems(world: MoneyWorld, promo_id: str) -> Callable[[], object]:
    """Another customer pays an invoice that carries the code (Stripe counts it)."""

    def redeem() -> None:
        state = world.state
        other = state.create_customer("succeeds")["id"]
        with state.lock:
            invoice = state.invoices_create(
                {"customer": other, "currency": "usd", "discounts": [{"promotion_code": promo_id}]}
            )
            state.invoiceitems_create(
                {"customer": other, "invoice": invoice["id"], "amount": "5000", "currency": "usd"}
            )
            state.invoices_pay(invoice["id"], {})

    return redeem


def test_a_stripe_code_pays_exactly_the_discounted_amount(world, server) -> None:
    promo = promotion(world, "SPRING33", percent_off=33.33)
    estimate = world.estimate(1, "year", "spring33")
    assert (estimate.before_discount, estimate.discount_amount, estimate.amount) == (
        GROSS,
        30159,  # 33.33 % of 90486 = 30158.98
        60327,
    )
    upgrade = world.submit(estimate)
    assert world.charge(upgrade.id) == "awaiting_payment"
    world.deliver()

    assert world.upgrade(upgrade.id).state == "applied"
    [invoice] = paid_invoices(world)
    assert (invoice["subtotal"], invoice["total"], invoice["amount_paid"]) == (GROSS, 60327, 60327)
    assert world.state.captured(customer=world.customer) == 60327
    [create] = server.requests("POST", "/v1/invoices")
    assert create.params["discounts"] == [{"promotion_code": promo["id"]}]
    [item] = server.requests("POST", "/v1/invoiceitems")
    assert item.params["amount"] == str(GROSS)
    assert len(server.requests("POST", "/v1/invoices/*/pay")) == 1
    assert world.state.get("promotion_code", promo["id"])["times_redeemed"] == 1
    [lookup] = server.requests("GET", "/v1/promotion_codes")
    assert (lookup.params["code"], lookup.params["active"]) == ("SPRING33", "true")


def test_an_amount_coupon_agrees_with_the_invoice_and_a_free_upgrade_still_counts(
    world,
) -> None:
    promotion(world, "TAKEALL", amount_off=100000, currency="usd", max_redemptions=1)
    estimate = world.estimate(1, "year", "TAKEALL")
    assert (estimate.discount_amount, estimate.amount) == (GROSS, 0)
    upgrade = world.submit(estimate)
    world.charge(upgrade.id)
    world.deliver()
    assert world.upgrade(upgrade.id).state == "applied"
    [invoice] = paid_invoices(world)
    assert (invoice["subtotal"], invoice["total"]) == (GROSS, 0)
    assert world.state.captured(customer=world.customer) == 0
    with pytest.raises(errors.DiscountCodeExhausted):  # Stripe counted it
        world.estimate(2, "year", "TAKEALL")


def test_the_local_code_wins_over_a_stripe_code_of_the_same_text(world, server) -> None:
    promotion(world, "SAME", percent_off=50)
    admin.create_discount(world.uow(), "SAME", 10, None, None, None, None)
    assert upgrade_with(world, "same") == "awaiting_payment"
    [invoice] = paid_invoices(world)
    assert invoice["discounts"] == [] and invoice["total"] == GROSS - 9049
    assert world.state.captured(customer=world.customer) == GROSS - 9049
    assert server.requests("POST", "/v1/invoices")[0].params["discounts"] == ""
    assert server.requests("GET", "/v1/promotion_codes") == []
    with world.uow() as uow:
        assert uow.catalog.discount("SAME").times_redeemed == 1


def test_a_code_redeemed_out_by_someone_else_before_the_charge_fails_it_by_name(
    world, server
) -> None:
    promo = promotion(world, "ONCE", percent_off=10, max_redemptions=1)
    upgrade = world.submit(world.estimate(1, "year", "ONCE"))
    someone_else_redeems(world, promo["id"])()
    assert world.charge(upgrade.id) == "payment_failed"
    reason = world.upgrade(upgrade.id).failure_reason
    assert reason == "discount_code_exhausted: promotion code 'ONCE' was fully redeemed"
    assert world.invoices() == []  # no invoice was even made
    assert world.state.captured(customer=world.customer) == 0


def test_a_code_stripe_refuses_at_payment_ends_by_name_with_nothing_charged(world, server) -> None:
    """Redeemed out by someone else after seatflow checked it and made the invoice."""
    promo = promotion(world, "ONCE", percent_off=10, max_redemptions=1)
    upgrade = world.submit(world.estimate(1, "year", "ONCE"))
    meddle(world, "pay_invoice", someone_else_redeems(world, promo["id"]))

    assert world.charge(upgrade.id) == "payment_failed"
    world.deliver()

    found = world.upgrade(upgrade.id)
    assert found.failure_reason.startswith("promotion_code_refused: Stripe refused the promotion")
    [invoice] = world.invoices()
    assert invoice["id"] == found.stripe_invoice_id
    assert invoice["status"] == "void"  # voided at once: paying it again cannot succeed
    assert invoice["amount_paid"] == 0 and world.state.captured(customer=world.customer) == 0
    [pay] = server.requests("POST", f"/v1/invoices/{invoice['id']}/pay")
    assert pay.status == 400
    assert len(server.requests("POST", f"/v1/invoices/{invoice['id']}/void")) == 1
    assert world.state.get("promotion_code", promo["id"])["times_redeemed"] == 1
    with pytest.raises(errors.EstimateStale):
        world.retry(upgrade.id)


def test_a_code_deactivated_before_the_invoice_is_made_ends_by_name(world, server) -> None:
    promo = promotion(world, "GONE", percent_off=10)
    upgrade = world.submit(world.estimate(1, "year", "GONE"))
    meddle(
        world,
        "draft_invoice",
        lambda: world.state.dashboard_promotion_code(promo["id"], active=False),
    )
    assert world.charge(upgrade.id) == "payment_failed"
    assert world.upgrade(upgrade.id).failure_reason.startswith("promotion_code_refused:")
    assert "is not active" in world.upgrade(upgrade.id).failure_reason
    assert world.invoices() == []  # Stripe refused the invoice itself
    assert server.requests("POST", "/v1/invoices/*/pay") == []
    assert world.state.captured(customer=world.customer) == 0


def test_a_code_expired_between_estimate_and_charge_fails_by_name(world) -> None:
    promotion(world, "SOON", percent_off=10, expires_at=JAN_11 + 60)
    upgrade = world.submit(world.estimate(1, "year", "SOON"))
    world.advance(120)
    assert world.charge(upgrade.id) == "payment_failed"
    assert world.upgrade(upgrade.id).failure_reason.startswith("discount_code_expired:")
    assert world.invoices() == [] and world.state.captured() == 0


def test_a_first_time_code_serves_the_first_payment_only(world) -> None:
    promotion(world, "WELCOME", percent_off=20, first_time_transaction=True)
    assert upgrade_with(world, "WELCOME") == "awaiting_payment"
    assert world.state.captured(customer=world.customer) == GROSS - 18097  # 18097.2
    with pytest.raises(errors.DiscountCodeFirstTimeOnly):
        world.estimate(2, "year", "WELCOME")


def test_a_minimum_amount_and_a_customer_restriction_refuse_the_estimate(world) -> None:
    promotion(world, "BIG", percent_off=10, minimum_amount=GROSS + 1, minimum_amount_currency="usd")
    with pytest.raises(errors.DiscountCodeMinimumAmount):
        world.estimate(1, "year", "BIG")
    other = world.state.create_customer("succeeds")["id"]
    promotion(world, "THEIRS", percent_off=10, customer=other)
    with pytest.raises(errors.DiscountCodeOtherCustomer):
        world.estimate(1, "year", "THEIRS")
    assert world.state.captured() == 0


def test_a_canceled_upgrade_redeems_nothing(world) -> None:
    promo = promotion(world, "KEEP", percent_off=10, max_redemptions=1)
    upgrade = world.submit(world.estimate(1, "year", "KEEP"))
    world.state.set_card(world.customer, "declines")
    assert world.charge(upgrade.id) == "payment_failed"
    world.cancel(upgrade.id)
    world.deliver()
    [invoice] = world.invoices()
    assert invoice["status"] == "void"
    assert world.state.get("promotion_code", promo["id"])["times_redeemed"] == 0
    assert world.estimate(1, "year", "KEEP").discount_amount == 9049  # still redeemable


def test_a_customers_standing_stripe_discount_is_not_inherited_by_the_upgrade(world, server):
    """A discount set on the customer in Stripe's dashboard would be inherited by every new
    invoice: the upgrade's invoice says it carries none (`discounts=""`), so Stripe bills
    exactly the surcharge the customer was shown, and the upgrade is paid, not voided."""
    coupon = world.state.create_coupon(percent_off=50)
    world.state.dashboard_customer_discount(world.customer, coupon["id"])

    upgrade = world.submit(world.estimate(1, "year", None))
    assert world.charge(upgrade.id) == "awaiting_payment"
    world.deliver()

    assert world.upgrade(upgrade.id).state == "applied"
    [invoice] = paid_invoices(world)
    assert (invoice["subtotal"], invoice["total"], invoice["amount_paid"]) == (GROSS, GROSS, GROSS)
    assert world.state.captured(customer=world.customer) == GROSS
    [create] = server.requests("POST", "/v1/invoices")
    assert create.params["discounts"] == ""


def test_the_model_gives_a_new_invoice_the_customers_standing_discount(world) -> None:
    """Stripe's rule the test above relies on: without `discounts`, a new invoice inherits
    the customer's discount."""
    coupon = world.state.create_coupon(percent_off=50)
    world.state.dashboard_customer_discount(world.customer, coupon["id"])
    inherited = world.state.invoices_create({"customer": world.customer})
    declined = world.state.invoices_create({"customer": world.customer, "discounts": ""})
    assert len(inherited["discounts"]) == 1
    assert declined["discounts"] == []
