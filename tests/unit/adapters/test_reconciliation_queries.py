"""The queries reconciliation and the saga's recovery ask by name, on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from adapters import drift
from adapters.orm import estimates, upgrades
from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from domain.commands import RequestEstimate, SubmitUpgrade
from services.upgrades import charge as upgrade_charge
from services.upgrades import request as upgrade_request
from tests.builders import build_world
from tests.fakes import FixedClock, fake_deps

NOW = datetime(2022, 1, 11, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)


@pytest.fixture
def engine(sqlite_settings):
    return make_engine(sqlite_settings)


@pytest.fixture
def uow(engine) -> SqlUnitOfWork:
    return SqlUnitOfWork(engine)


@pytest.fixture
def world(engine):
    return build_world(engine)


def submitted(uow, world) -> str:
    deps = fake_deps(FixedClock(NOW))
    estimate = upgrade_request.request_estimate(
        RequestEstimate(world.org_id, world.owner["id"], "node_locked", 1, "year"), uow, deps
    )
    upgrade, _ = upgrade_request.submit_upgrade(
        SubmitUpgrade(world.org_id, world.owner["id"], estimate.id), uow, deps
    )
    return upgrade.id


def put(engine, upgrade_id: str, **values: object) -> None:
    with engine.begin() as conn:
        conn.execute(update(upgrades).where(upgrades.c.id == upgrade_id).values(**values))


def test_upgrades_stuck_awaiting_payment_are_found_by_state_and_age(engine, uow, world) -> None:
    upgrade_id = submitted(uow, world)
    with uow:
        assert uow.upgrades.stuck_since(LATER) == []
    put(engine, upgrade_id, state="awaiting_payment", stripe_invoice_id="in_1")
    with uow:
        assert uow.upgrades.stuck_since(LATER) == [(upgrade_id, "in_1", world.org_id)]
        assert uow.upgrades.stuck_since(NOW - timedelta(hours=1)) == []


def test_an_applied_upgrade_stripe_was_not_told_about_is_unpushed(engine, uow, world) -> None:
    upgrade_id = submitted(uow, world)
    with uow:
        assert uow.upgrades.unpushed_applied(world.org_id, "node_locked") is None
    put(engine, upgrade_id, state="applied")
    with uow:
        assert uow.upgrades.unpushed_applied(world.org_id, "node_locked") == upgrade_id
        assert uow.upgrades.unpushed_applied(world.org_id, "floating") is None
    put(engine, upgrade_id, stripe_synced_at=NOW)
    with uow:
        assert uow.upgrades.unpushed_applied(world.org_id, "node_locked") is None


def test_refresh_reads_an_upgrade_again(engine, uow, world) -> None:
    upgrade_id = submitted(uow, world)
    with uow:
        upgrade = uow.upgrades.get(upgrade_id)
        put(engine, upgrade_id, state="charging")
        uow.upgrades.refresh(upgrade)
        assert upgrade.state == "charging"


def test_open_estimates_past_expiry_become_stale(engine, uow, world) -> None:
    submitted(uow, world)
    with engine.begin() as conn:
        conn.execute(update(estimates).values(status="open"))
    with uow:
        assert uow.upgrades.expire_estimates(NOW) == 0
        assert uow.upgrades.expire_estimates(NOW + timedelta(days=30)) == 1
        uow.commit()
    with uow:
        assert uow.upgrades.expire_estimates(NOW + timedelta(days=30)) == 0


def test_applied_upgrades_are_compared_once_their_drift_is_recorded(engine, uow, world) -> None:
    upgrade_id = submitted(uow, world)
    upgrade_charge.charge_upgrade(upgrade_id, uow, fake_deps(FixedClock(NOW)))
    put(engine, upgrade_id, state="applied", paid_amount=1)
    with uow:
        [found] = uow.reconciliation.unrecorded_estimate_drift()
        assert (found.id, found.organization_id, found.paid_amount) == (upgrade_id, world.org_id, 1)
        assert found.charged_amount is not None and found.computed_at <= found.created_at
        uow.drift.record(NOW, kind="estimate", subject=upgrade_id, cause="c", before={"a": 1})
        uow.commit()
    with uow:
        assert uow.reconciliation.unrecorded_estimate_drift() == []
        [record] = uow.drift.rows("estimate")
    assert (record["subject"], record["before"]) == (upgrade_id, '{"a": 1}')
    assert drift.rows(engine, "estimate") == [record]
    assert drift.rows(engine, "saga") == []


def test_local_subscriptions_are_read_by_their_stripe_ids(uow, world) -> None:
    with uow:
        [sub] = uow.subscriptions.compared_columns(["sub_acme_nl", "sub_unknown"])
        assert uow.subscriptions.compared_columns([]) == []
    assert (sub.stripe_subscription_id, sub.organization_id) == ("sub_acme_nl", world.org_id)
    assert (sub.seats, sub.interval, sub.status) == (1, "month", "active")
