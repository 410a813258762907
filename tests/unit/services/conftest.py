"""Fixtures of the upgrade saga's tests: a real (SQLite) database, a fake Stripe gateway."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from tests.builders import build_world
from tests.fakes import FakeGateway, FixedClock, fake_deps

SEED_AS_OF = datetime(2022, 1, 11, tzinfo=UTC)


@pytest.fixture
def engine(sqlite_settings) -> Engine:
    return make_engine(sqlite_settings)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(SEED_AS_OF)


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def deps(clock, gateway):
    return fake_deps(clock, gateway)


@pytest.fixture
def sent() -> list:
    return []


@pytest.fixture
def uow(engine, sent) -> SqlUnitOfWork:
    return SqlUnitOfWork(engine, enqueue=lambda name, args: sent.append((name, args)))


@pytest.fixture
def world(engine):
    return build_world(engine)
