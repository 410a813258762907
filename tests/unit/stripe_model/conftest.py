"""A fresh model of Stripe per test, frozen at 2022-01-11T00:00Z, served over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from tests.stripe_model import Clock, StripeServer, StripeState

NOW = 1641859200  # 2022-01-11T00:00:00Z


@pytest.fixture
def state() -> StripeState:
    return StripeState(Clock(frozen=NOW))


@pytest.fixture
def server(state: StripeState) -> Iterator[StripeServer]:
    with StripeServer(state) as running:
        yield running


@pytest.fixture
def client(server: StripeServer) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_model", base_addresses={"api": server.url}, max_network_retries=0
    )
