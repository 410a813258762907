"""`seatflow discount check`: the discount field's code as an upgrade of this organization
would take it (seatflow's own code, which wins, or Stripe's promotion code, read from the
stateful fake Stripe over HTTP); a code that cannot be used exits 1 with the named reason."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from config.settings import Settings
from services import admin
from tests.conftest import env_for
from tests.stripe_model import StripeServer, StripeState
from tests.unit.cli.test_operator_messages import run

pytestmark = pytest.mark.slow  # every test here starts a process


@pytest.fixture
def stripe_fake() -> Iterator[StripeServer]:
    with StripeServer(StripeState()) as server:
        yield server


@pytest.fixture
def env(sqlite_settings: Settings, stripe_fake: StripeServer) -> dict[str, str]:
    return env_for(sqlite_settings, STRIPE_API_BASE=stripe_fake.url, STRIPE_API_KEY="sk_test_x")


@pytest.fixture
def org(sqlite_settings: Settings, stripe_fake: StripeServer) -> tuple[str, str]:
    customer = stripe_fake.state.create_customer("succeeds")["id"]
    made = admin.create_organization(
        SqlUnitOfWork(make_engine(sqlite_settings)), "Acme", customer=customer
    )
    return made["id"], customer


def test_a_stripe_code_is_shown_with_what_it_takes_off(env, org, stripe_fake) -> None:
    coupon = stripe_fake.state.create_coupon(percent_off=33.33)
    promo = stripe_fake.state.create_promotion_code(coupon["id"], "Spring33", max_redemptions=9)
    done = run(env, "discount", "check", "spring33", "--org", org[0], "--amount", "1500")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown == {
        "code": "SPRING33",
        "source": "stripe",
        "promotion_code": promo["id"],
        "coupon": coupon["id"],
        "percent_off": "33.33",
        "amount_off": None,
        "max_redemptions": 9,
        "times_redeemed": 0,
        "takes_off": {"amount": 1500, "currency": "usd", "discount": 500, "due": 1000},
    }


def test_a_local_code_wins_over_a_stripe_code_of_the_same_text(
    env, org, stripe_fake, sqlite_settings
) -> None:
    stripe_fake.state.create_promotion_code(
        stripe_fake.state.create_coupon(percent_off=50)["id"], "TWICE"
    )
    admin.create_discount(
        SqlUnitOfWork(make_engine(sqlite_settings)), "TWICE", 10, None, None, None, None
    )
    done = run(env, "discount", "check", "twice", "--org", org[0], "--amount", "1000")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert (shown["source"], shown["percent_off"], shown["takes_off"]["discount"]) == (
        "seatflow",
        "10",
        100,
    )
    assert stripe_fake.requests("GET", "/v1/promotion_codes") == []


def test_a_refused_code_exits_1_with_its_reason(env, org, stripe_fake) -> None:
    promo = stripe_fake.state.create_promotion_code(
        stripe_fake.state.create_coupon(percent_off=5)["id"], "OLD"
    )
    stripe_fake.state.dashboard_promotion_code(promo["id"], active=False)
    done = run(env, "discount", "check", "OLD", "--org", org[0])
    assert done.returncode == 1
    assert done.stderr.strip() == "error: promotion code 'OLD' is not active"
    missing = run(env, "discount", "check", "NOWHERE", "--org", org[0])
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: no discount code 'NOWHERE'")
