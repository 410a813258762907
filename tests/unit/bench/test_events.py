"""The benchmarks send what Stripe sends: full-size subscription updates in the shape of the
API's fixtures, which seatflow's receiver and worker accept as they would a live one."""

from __future__ import annotations

import importlib
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from adapters.stripe_parsing import resolve, to_command
from adapters.unit_of_work import SqlUnitOfWork
from bench import events
from cli import samples
from config.database import make_engine
from domain.commands import SyncSubscription
from domain.model import Interval
from inbox.events import IncomingEvent, load_payload
from services import admin, stripe_events
from tests.builders import store_event
from tests.conftest import stripe_fixture
from tests.fakes import fake_deps
from webhooks.signature import verify

BENCH = Path(events.__file__).parent


def _keys(value: dict[str, Any]) -> set[str]:
    return set(value)


def test_a_full_size_event_is_over_4000_bytes_signed_and_the_small_one_only_on_request() -> None:
    body, _ = samples.signed(events.subscription_updated(7, 3, 1_700_000_000), "whsec_x")
    small, _ = samples.signed(
        events.subscription_updated(7, 3, 1_700_000_000, small=True), "whsec_x"
    )
    assert len(body) >= 4000
    assert len(small) < 1000


def test_the_event_has_the_shape_of_the_test_suites_stripe_fixtures() -> None:
    event = events.subscription_updated(7, 3, 1_700_000_000)
    subscription, fixture = event["data"]["object"], stripe_fixture("subscription")
    item, fixture_item = subscription["items"]["data"][0], fixture["items"]["data"][0]
    assert _keys(event) == _keys(stripe_fixture("event"))
    assert _keys(subscription) == _keys(fixture)
    assert _keys(item) == _keys(fixture_item)
    assert _keys(item["price"]) == _keys(stripe_fixture("price"))
    assert _keys(item["plan"]) == _keys(fixture_item["plan"])
    assert event["api_version"] == samples.API_VERSION
    # What a live subscription with a seat change carries, not the fixture's empty values.
    assert subscription["discounts"] and subscription["default_payment_method"]
    assert subscription["metadata"] and item["price"]["metadata"]["license_type"]
    assert event["data"]["previous_attributes"]["items"]["data"][0]["quantity"] == 2


def test_the_receiver_verifies_and_parses_it_and_the_worker_reads_the_seat_change() -> None:
    event = events.subscription_updated(7, 3, 1_700_000_000)
    body, headers = samples.signed(event, "whsec_bench")
    assert verify(body, headers["Stripe-Signature"], ["whsec_bench"], 300, time.time()) == 0
    incoming = IncomingEvent.parse(body)
    assert (incoming.event_id, incoming.type) == (event["id"], "customer.subscription.updated")
    command = to_command(resolve(load_payload(body.decode()), lambda *_: {}, False))
    assert isinstance(command, SyncSubscription)
    assert command.stripe_customer_id == "cus_7"
    snapshot = command.snapshot
    assert (snapshot.stripe_subscription_id, snapshot.stripe_item_id) == ("sub_7", "si_7")
    assert (snapshot.seats, snapshot.license_type, snapshot.interval) == (
        3,
        "node_locked",
        Interval.MONTH,
    )
    assert snapshot.status == "active"


def test_the_worker_applies_the_benchmarks_events_to_the_organizations_of_their_customers(
    sqlite_settings,
) -> None:
    engine = make_engine(sqlite_settings)
    uow = SqlUnitOfWork(engine)
    admin.create_organization(uow, "Org 1", "org_1", "cus_1")
    admin.create_organization(uow, "Org 2", "org_2", "cus_2")
    ids = [store_event(engine, events.nth(i, 2)) for i in range(6)]
    deps = fake_deps()
    outcomes = stripe_events.process_stripe_events(
        ids, lambda: SqlUnitOfWork(engine), deps, retry_alone=lambda _: False
    )
    assert outcomes == {"applied": 6}
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT organization_id, seats FROM subscriptions").all()
    assert dict(rows) == {"org_1": 3, "org_2": 3}


def test_every_benchmark_takes_its_subscription_events_from_bench_events(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    builders = re.compile(r"samples\.(subscription_object|event)\(")
    others = [
        path.name
        for path in sorted(BENCH.glob("*.py"))
        if path.name != "events.py" and builders.search(path.read_text())
    ]
    assert others == []
    for name in ("burst", "pipeline", "receiver", "writer", "profile_worker"):
        monkeypatch.setattr(sys, "argv", [name, "--help"])
        with pytest.raises(SystemExit):
            importlib.import_module(f"bench.{name}").main()
        assert "--small-events" in capsys.readouterr().out, name
