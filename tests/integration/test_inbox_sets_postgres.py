"""On PostgreSQL: a task message's inbox rows read, locked and marked as a set (one array
parameter however many events, `= ANY`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import event as sa_event

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from domain.ports import Mark
from inbox.table import inbox_row
from tests.builders import subscription_event

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_sixty_rows_are_locked_in_order_and_marked_by_outcome(pg_settings) -> None:
    uow = SqlUnitOfWork(make_engine(pg_settings))
    ids = []
    with uow:
        rows = []
        for n in range(60):
            event = subscription_event("cus_set", created=1_700_000_000 + n)
            event["id"] = f"evt_set{n:02d}"
            rows.append(inbox_row(event, json.dumps(event), T0, None))
            ids.append(event["id"])
        uow.inbox.add(rows)
        uow.commit()
    later = T0 + timedelta(minutes=1)
    seen: list[str] = []

    def capture(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        seen.append(sql)

    sa_event.listen(uow.engine, "before_cursor_execute", capture)
    with uow:
        locked = uow.inbox.lock_all([*reversed(ids), "evt_never"])
        assert list(locked) == ids  # in the order they arrived; an unknown id is absent
        uow.inbox.mark_all(
            [Mark(i, "applied") for i in ids[:59]] + [Mark(ids[59], "ignored", "why")], later
        )
        uow.commit()
    sa_event.remove(uow.engine, "before_cursor_execute", capture)
    # One array parameter each, not one placeholder per event: the same text for any count.
    assert len(seen) == 3 and all("= ANY (" in s and s.count("%(") <= 8 for s in seen), seen
    with uow:
        found = [uow.inbox.full_row(i) for i in ids]
    assert {(r["state"], r["last_error"], r["attempts"]) for r in found[:59]} == {
        ("applied", None, 1)
    }
    assert (found[59]["state"], found[59]["last_error"]) == ("ignored", "why")
    assert {r["applied_at"] for r in found} == {later}
