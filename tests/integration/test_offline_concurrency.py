"""Concurrent offline activations at the seat limit, on real PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from domain.licenses import OfflineSeatsExhausted
from domain.model import Member
from services import licenses as license_service
from services import stripe_events
from tests.builders import build_world, store_event, subscription_event
from tests.fakes import fake_deps

pytestmark = pytest.mark.slow


def test_twenty_machines_racing_for_three_seats_get_exactly_three(pg_settings) -> None:
    engine = make_engine(pg_settings, pool_size=20, max_overflow=5)
    deps = fake_deps()
    world = build_world(engine, customer="cus_race", with_subscription=False)
    event = subscription_event("cus_race", seats=3, interval="year")
    stripe_events.process_stripe_event(store_event(engine, event), SqlUnitOfWork(engine), deps)
    admin_member = Member(world.admin["id"], world.org_id, "a@x", "admin")

    def attempt(machine: str) -> str:
        try:
            license_service.activate_offline(
                SqlUnitOfWork(engine), deps, world.org_id, admin_member, "node_locked", machine
            )
            return "activated"
        except OfflineSeatsExhausted:
            return "full"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, [f"machine-{i}" for i in range(20)]))
    assert (outcomes.count("activated"), outcomes.count("full")) == (3, 17)
    with SqlUnitOfWork(engine) as uow:
        assert len(uow.licenses.activations(world.org_id, active_only=True)) == 3
    engine.dispose()
