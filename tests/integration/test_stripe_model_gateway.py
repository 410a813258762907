"""seatflow's Stripe gateway against the stateful fake Stripe: the money Stripe took for one
upgrade, as recorded by the fake, not as seatflow meant it.

The documents' example: $100 monthly from 2022-01-01, switched to $1,000 yearly on
2022-01-11. The surcharge is 90486 cents now; the next invoice is 100000 on 2023-01-01.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from adapters.stripe_errors import StripeUnavailable
from adapters.stripe_gateway import StripeGateway
from domain.ports import ChargeResult, SubscriptionChange
from tests.fakes import open_and_pay
from tests.stripe_model import Clock, StripeServer, StripeState

JAN_1 = 1640995200  # 2022-01-01T00:00:00Z
NOW = 1641859200  # 2022-01-11T00:00:00Z
NEXT_YEAR = 1672531200  # 2023-01-01T00:00:00Z


@pytest.fixture
def stripe_fake() -> Iterator[StripeServer]:
    state = StripeState(Clock(frozen=NOW))
    state.create_price("price_node_locked_year", unit_amount=100000, interval="year")
    with StripeServer(state) as server:
        yield server


@pytest.fixture
def gateway(stripe_fake: StripeServer) -> StripeGateway:
    return StripeGateway("sk_test_seatflow", stripe_fake.url, max_network_retries=0)


def charge(gateway: StripeGateway, customer: str, upgrade_id: str = "up1") -> ChargeResult:
    return open_and_pay(
        gateway,
        upgrade_id=upgrade_id,
        customer_id=customer,
        amount=90486,
        currency="usd",
        description="Upgrade to node_locked yearly",
        metadata={"organization_id": "org_1", "upgrade_id": upgrade_id},
    )


def test_one_paid_upgrade_captures_the_surcharge_then_the_year_on_its_date(
    stripe_fake: StripeServer, gateway: StripeGateway
) -> None:
    state = stripe_fake.state
    customer = state.create_customer("succeeds")["id"]
    sub = state.create_subscription(
        customer, "price_node_locked_month", unit_amount=10000, period_start=JAN_1
    )

    result = charge(gateway, customer)
    charge(gateway, customer)  # a retried task: the same keys, Stripe's stored answers

    assert (result.paid, result.failure) == (True, None)
    assert state.captured(customer=customer) == 90486
    assert [e.invoice for e in state.captures()] == [result.invoice_id]
    paid = state.events_of("invoice.paid")[0]["data"]["object"]
    assert paid["metadata"] == {"organization_id": "org_1", "upgrade_id": "up1"}
    # The retry replays the draft's key, reads the invoice (finalized already: nothing is
    # added or finalized again) and replays the payment's key.
    assert [r.idempotency_key for r in stripe_fake.requests("POST")] == [
        f"seatflow-upgrade-up1-{step}"
        for step in ("invoice", "item", "finalize", "pay", "invoice", "pay")
    ]

    gateway.update_subscription(
        SubscriptionChange(
            upgrade_id="up1",
            subscription_id=sub["id"],
            item_id=sub["items"]["data"][0]["id"],
            price_id="price_node_locked_year",
            quantity=1,
            cycle_start=datetime(2022, 1, 1, tzinfo=UTC),
            prepaid_until=datetime(2023, 1, 1, tzinfo=UTC),
        )
    )
    assert state.captured(customer=customer) == 90486  # no second charge for the same year
    assert state.pending_items(customer) == []

    state.advance(NEXT_YEAR - NOW)
    renewal = state.get("invoice", sub["latest_invoice"])
    assert (renewal["billing_reason"], renewal["amount_paid"]) == ("subscription_cycle", 100000)
    assert state.captured(customer=customer) == 90486 + 100000


def test_a_declined_card_is_a_failed_charge_with_stripes_reason(stripe_fake, gateway) -> None:
    customer = stripe_fake.state.create_customer("declines")["id"]
    result = charge(gateway, customer)
    assert (result.paid, result.failure) == (False, "Your card was declined.")
    assert stripe_fake.state.get("invoice", result.invoice_id)["status"] == "open"
    assert stripe_fake.state.captured() == 0


def test_a_lost_answer_to_pay_is_retried_and_captures_once(stripe_fake, gateway) -> None:
    customer = stripe_fake.state.create_customer("succeeds")["id"]
    stripe_fake.lose_answer("/v1/invoices/*/pay")
    with pytest.raises(StripeUnavailable):
        charge(gateway, customer)

    result = charge(gateway, customer)

    assert result.paid is True
    assert stripe_fake.state.captured(customer=customer) == 90486


@pytest.mark.parametrize(
    "card, outcome", [("declines", "card_declined"), ("requires_action", "requires_action")]
)
def test_each_stripe_request_of_a_charge_is_counted_once_by_its_own_name(
    stripe_fake, gateway, card, outcome
) -> None:
    """One charge: one invoice made, one item, one finalize, one payment attempt, each under
    its own operation; a payment that needs 3-D Secure is not a decline."""
    from config.metrics import STRIPE_CALLS

    operations = ("create_invoice", "invoice_item", "finalize_invoice", "pay_invoice")
    outcomes = ("ok", "card_declined", "requires_action")

    def counts() -> dict[tuple[str, str], float]:
        return {
            (op, out): STRIPE_CALLS.labels(op, out)._value.get()
            for op in operations
            for out in outcomes
        }

    before = counts()
    customer = stripe_fake.state.create_customer(card)["id"]
    charge(gateway, customer)
    after = counts()
    added = {key: after[key] - before[key] for key in after if after[key] != before[key]}
    assert added == {
        ("create_invoice", "ok"): 1,
        ("invoice_item", "ok"): 1,
        ("finalize_invoice", "ok"): 1,
        ("pay_invoice", outcome): 1,
    }


def test_a_balance_credit_is_given_once_whatever_the_retries(stripe_fake, gateway) -> None:
    customer = stripe_fake.state.create_customer("succeeds")["id"]
    for _ in range(2):
        gateway.credit_balance(
            upgrade_id="up1", invoice_id="in_1", customer_id=customer, amount=5000, currency="usd"
        )
    assert stripe_fake.state.get("customer", customer)["balance"] == -5000
