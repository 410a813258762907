"""Fixtures of the service tests: the fakes of the ports (`tests.fakes`), in memory. What only
a database does (transactions, statements, SQL) is tested in tests/unit/adapters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.builders import World, build_world
from tests.fakes import FakeGateway, FakeUnitOfWork, FixedClock, fake_deps

SEED_AS_OF = datetime(2022, 1, 11, tzinfo=UTC)


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
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def sent(uow: FakeUnitOfWork) -> list:
    """The tasks the unit of work sent, after its commits."""
    return uow.sent


@pytest.fixture
def world(uow: FakeUnitOfWork) -> World:
    return build_world(uow)
