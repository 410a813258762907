"""Upgrades end to end against the stateful fake Stripe: what Stripe captured, refunded and
holds open, in exact cents, after seatflow's real services handled Stripe's own events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from config.database import make_engine
from tests.money_world import DAY, money_world
from tests.stripe_model import Clock, StripeServer, StripeState

JAN_1 = 1640995200  # 2022-01-01T00:00:00Z
JAN_11 = 1641859200  # 2022-01-11T00:00:00Z


@pytest.fixture
def engine(sqlite_settings) -> Iterator[Engine]:
    engine = make_engine(sqlite_settings)
    yield engine
    engine.dispose()


@pytest.fixture
def server() -> Iterator[StripeServer]:
    with StripeServer(StripeState(Clock(frozen=JAN_11))) as running:
        yield running


def at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def test_a_trial_switched_to_annual_still_ends_with_the_trial_and_then_bills_the_year(
    engine, server
) -> None:
    world = money_world(engine, server, period_start=JAN_1, trial_days=14)
    trial_end = JAN_1 + 14 * DAY
    estimate = world.estimate(1, "year")
    assert (estimate.amount, estimate.trial) == (0, True)

    upgrade = world.submit(estimate)
    assert world.charge(upgrade.id) == "applied"
    assert world.push(upgrade.id) is True
    world.deliver()

    stripe_sub = world.stripe_subscription()
    assert (stripe_sub["status"], stripe_sub["trial_end"]) == ("trialing", trial_end)
    assert stripe_sub["items"]["data"][0]["price"]["id"] == "price_node_locked_year"
    assert world.state.captured() == 0
    sub = world.subscription()
    assert (sub.status, sub.interval, sub.current_period_end) == ("trialing", "year", at(trial_end))
    current = world.licenses()[-1]
    assert current.valid_until == at(trial_end) + world.deps.license_grace

    world.advance(trial_end - JAN_11)
    world.deliver()

    assert world.state.captured(customer=world.customer) == 100000
    sub = world.subscription()
    assert (sub.status, sub.interval) == ("active", "year")
    assert sub.current_period_end == at(trial_end) + timedelta(days=365)
