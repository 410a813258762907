"""What only a database transaction does, seen through the services on SQLite and PostgreSQL:
what one transaction wrote is read back before its commit and is gone after its rollback, a
batch of events is one transaction (or one per event when it fails), and how many statements
it costs (on PostgreSQL with arrays: a batch that failed there would be applied one by one,
and cost more). The service tests themselves run on the fakes (tests/unit/services)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from services import admin, stripe_events
from services import licenses as license_service
from tests.builders import store_event
from tests.conftest import clean
from tests.fakes import FixedClock, fake_deps
from tests.unit.services.test_licenses import versions, world_with
from tests.unit.services.test_subscription_sync import DEPS, sub_event

NOW = datetime(2022, 1, 11, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    if request.param == "sqlite":
        return make_engine(request.getfixturevalue("sqlite_settings"))
    found = make_engine(request.getfixturevalue("pg_settings"))
    clean(found)
    return found


@pytest.fixture
def uow(engine) -> SqlUnitOfWork:
    return SqlUnitOfWork(engine)


@pytest.fixture
def deps():
    return fake_deps(FixedClock(NOW))


def test_a_transactions_new_version_is_read_back_before_commit_and_gone_after_rollback(
    uow, deps
) -> None:
    world = world_with(uow, deps, seats=2)
    with uow:
        org = uow.organizations.locked(world.org_id)
        sub = org.subscription_for("node_locked")
        before = uow.licenses.current(world.org_id, "node_locked")  # read as it was: v1
        assert before is not None and before.status == "current"
        issued = license_service.regenerate(uow, org, sub, "manual:one", deps, NOW)
        assert issued is not None
        # Not committed yet: every read of this transaction sees v2, and v1 superseded.
        assert [(x.version, x.status) for x in uow.licenses.history(world.org_id)] == [
            (2, "current"),
            (1, "superseded"),
        ]
        found = uow.licenses.get(world.org_id, issued.id)
        assert found is not None and found.version == 2
        assert license_service.regenerate(uow, org, sub, "manual:two", deps, NOW) is not None
        uow.rollback()  # v2 written, v3 not yet: neither happened
        assert [(x.version, x.status) for x in uow.licenses.history(world.org_id)] == [
            (1, "current")
        ]
        # What the rolled-back transaction issued is forgotten: the cause may issue again.
        again = license_service.regenerate(uow, org, sub, "manual:one", deps, NOW)
        assert again is not None and again.version == 2
        uow.commit()
    assert versions(uow, world) == [(1, "superseded", "created", 2), (2, "current", "manual", 2)]


# A batch of events in one transaction: what it costs in statements.


@pytest.fixture
def acme(engine) -> SqlUnitOfWork:
    unit = SqlUnitOfWork(engine)
    admin.create_organization(unit, "Acme", "org_acme", "cus_acme")
    return unit


def store(uow: SqlUnitOfWork, event: dict) -> str:
    return store_event(uow, event)


def _statements_of_one_message(uow: SqlUnitOfWork, ids: list[str], backlog: int = 0) -> list[str]:
    """The SQL statements of one task message naming `ids`, each of which gets applied
    (`backlog`: as many stored events never tried it may take on, the worker's 64)."""
    from sqlalchemy import event

    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(uow.engine, "before_cursor_execute", seen)
    try:
        states = stripe_events.process_stripe_events(
            ids, lambda: SqlUnitOfWork(uow.engine), DEPS, lambda _: False, backlog=backlog
        )
    finally:
        event.remove(uow.engine, "before_cursor_execute", seen)
    assert states == {"applied": len(ids)}
    return statements


def test_a_batch_locks_and_loads_each_organization_once(acme) -> None:
    uow = acme
    ids = [store(uow, sub_event(seats=n, created=10 * n)) for n in (1, 2, 3, 4)]
    statements = _statements_of_one_message(uow, ids)
    loads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert sum("FROM organizations" in s for s in loads) == 1
    assert sum("FROM subscriptions" in s for s in loads) == 1


def _statements_for_one_change_each(uow: SqlUnitOfWork, customers: list[str]) -> list[str]:
    """The SQL statements of one task message that changes each customer's seats once."""
    ids = [
        store(uow, sub_event(seats=7, created=500 + i, customer=customer, subscription_id=customer))
        for i, customer in enumerate(customers)
    ]
    return _statements_of_one_message(uow, ids, backlog=64)


def test_a_batch_costs_the_same_statements_for_two_organizations_or_eight(acme) -> None:
    uow = acme
    customers = [f"cus_{n}" for n in range(8)]
    for n, customer in enumerate(customers):
        admin.create_organization(uow, f"Org {n}", f"org_{n}", customer)
    # Each gets its subscription and first license, then one change each is measured.
    stripe_events.process_stripe_events(
        [store(uow, sub_event(1, 1, customer=c, subscription_id=c)) for c in customers],
        lambda: SqlUnitOfWork(uow.engine),
        DEPS,
        lambda _: False,
    )
    two = _statements_for_one_change_each(uow, customers[:2])
    eight = _statements_for_one_change_each(uow, customers)
    # Read as a set, written with one flush: the inbox rows, the organizations (locked), their
    # subscriptions, the catalog, the current licenses, the backlog (none); then one statement
    # per table written.
    assert len(eight) == len(two) <= 12, "\n".join(s[:90] for s in eight)
    if uow.engine.dialect.name == "postgresql":
        # Each set of ids is one array parameter: one statement for the driver at any size.
        reads = [s for s in eight if s.lstrip().upper().startswith("SELECT") and " = ANY (" in s]
        assert {s.split("FROM")[1].split()[0] for s in reads} >= {"subscriptions", "licenses"}
        assert not [s for s in eight if " IN (" in s], eight
    with uow:
        for n in range(8):
            versions = [(x.version, x.seats, x.status) for x in uow.licenses.history(f"org_{n}")]
            assert versions == [(2, 7, "current"), (1, 1, "superseded")]


def test_a_broken_rule_rolls_the_batch_back_whole_and_each_event_is_applied_alone(acme) -> None:
    """The shared transaction's changes are undone before the events are applied one by one
    (on the fakes, tests/unit/services checks which outcome each event gets)."""
    good = store(acme, sub_event(seats=2, created=10))
    stranger = store(acme, sub_event(seats=9, created=20, customer="cus_nobody"))
    later = store(acme, sub_event(seats=4, created=30))
    transactions: list[SqlUnitOfWork] = []

    def unit_of_work() -> SqlUnitOfWork:
        transactions.append(SqlUnitOfWork(acme.engine))
        return transactions[-1]

    states = stripe_events.process_stripe_events(
        [good, stranger, later], unit_of_work, DEPS, lambda _: False
    )
    assert states == {"applied": 2, "dead": 1}
    assert len(transactions) == 1 + 3  # the batch's, rolled back; then one per event
    with acme:
        versions = [x.version for x in acme.licenses.history("org_acme")]
    assert sorted(versions) == [1, 2]  # none left over from the batch that was rolled back
