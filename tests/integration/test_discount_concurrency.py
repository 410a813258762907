"""A single-use discount code under concurrent submissions from many organizations, on real
PostgreSQL: the code's row lock lets exactly one reserve it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from domain.commands import RequestEstimate, SubmitUpgrade
from domain.errors import DiscountCodeExhausted
from services import admin
from services.upgrades import request as upgrade_request
from tests.builders import build_world
from tests.fakes import FixedClock, fake_deps

pytestmark = pytest.mark.slow


def test_ten_organizations_racing_for_a_single_use_code_reserve_it_once(pg_settings) -> None:
    engine = make_engine(pg_settings, pool_size=12, max_overflow=2)
    deps = fake_deps(FixedClock(datetime(2022, 1, 11, tzinfo=UTC)))
    admin.create_discount(SqlUnitOfWork(engine), "ONCE", 10, None, None, None, 1)
    worlds = [build_world(engine, customer=f"cus_{i}", sub_id=f"sub_{i}") for i in range(10)]
    estimates = [
        upgrade_request.request_estimate(
            RequestEstimate(w.org_id, w.owner["id"], "node_locked", 2, "month", "once"),
            SqlUnitOfWork(engine),
            deps,
        )
        for w in worlds
    ]

    def attempt(i: int) -> str:
        cmd = SubmitUpgrade(worlds[i].org_id, worlds[i].owner["id"], estimates[i].id)
        try:
            upgrade_request.submit_upgrade(cmd, SqlUnitOfWork(engine), deps)
            return "reserved"
        except DiscountCodeExhausted:
            return "exhausted"

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(attempt, range(10)))
    assert (outcomes.count("reserved"), outcomes.count("exhausted")) == (1, 9)
    with SqlUnitOfWork(engine) as uow:
        assert uow.upgrades.reserved("ONCE") == 1
    engine.dispose()
