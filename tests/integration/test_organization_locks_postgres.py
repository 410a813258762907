"""On PostgreSQL: a batch that waits for an organization's lock reads its subscriptions after
the lock is granted, so it sees what the holder committed (read with the locking statement,
they would come from that statement's snapshot, taken before the holder committed, and an
older event could then overwrite a newer one)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import pytest

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from domain.model import Organization
from tests.builders import build_world
from tests.support import wait_until


def _waiting_for_a_lock(url: str) -> int:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def _a_batchs_lock(uow: SqlUnitOfWork) -> Organization:
    uow.organizations.lock_customers(["cus_acme"])
    org = uow.organizations.get_by_customer("cus_acme")
    assert org is not None
    return org


def _one_events_lock(uow: SqlUnitOfWork) -> Organization:
    org = uow.organizations.get_by_customer("cus_acme", lock=True)
    assert org is not None
    return org


@pytest.mark.parametrize("lock", [_a_batchs_lock, _one_events_lock], ids=["batch", "one"])
def test_a_waiter_reads_the_subscriptions_its_lock_holder_committed(
    pg_settings, lock: Callable[[SqlUnitOfWork], Organization]
) -> None:
    engine = make_engine(pg_settings)
    build_world(engine, seats=3)
    seen: list[int] = []

    def waiter() -> None:
        with SqlUnitOfWork(engine) as uow:
            seen.extend(sub.seats for sub in lock(uow).subscriptions)

    holder = SqlUnitOfWork(engine)
    with holder:
        org = lock(holder)
        (subscription,) = org.subscriptions
        subscription.seats = 7
        thread = threading.Thread(target=waiter)
        thread.start()
        wait_until(lambda: _waiting_for_a_lock(pg_settings.database_url) >= 1, 20)
        holder.commit()
    thread.join(20)
    assert seen == [7]
