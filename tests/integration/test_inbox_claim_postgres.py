"""On PostgreSQL: two task messages taking on the same backlog at once get different events
(each skips what the other holds), and neither waits for the other."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from inbox.table import inbox_row
from tests.builders import subscription_event

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_two_transactions_take_on_disjoint_parts_of_the_backlog_oldest_first(
    pg_settings,
) -> None:
    engine = make_engine(pg_settings)
    ids = []
    with SqlUnitOfWork(engine) as uow:
        rows = []
        for n in range(6):
            event = subscription_event("cus_claim", created=1_700_000_000 + n)
            event["id"] = f"evt_claim{n}"
            rows.append(inbox_row(event, json.dumps(event), T0 + timedelta(seconds=n), None))
            ids.append(event["id"])
        uow.inbox.add(rows)
        uow.commit()
    first, second = SqlUnitOfWork(engine), SqlUnitOfWork(engine)
    with first, second:
        taken_first = first.inbox.claim(3, exclude=[ids[0]])
        # Waiting would be a failure: a lock not granted at once fails the test.
        second.session.execute(text("SET LOCAL lock_timeout = '2s'"))
        taken_second = second.inbox.claim(10)
        assert list(taken_first) == ids[1:4]
        assert list(taken_second) == [ids[0], ids[4], ids[5]]
        assert taken_first[ids[1]].payload  # what admission needs comes with the lock
