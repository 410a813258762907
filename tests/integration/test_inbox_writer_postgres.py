"""On PostgreSQL: a row the database refuses (created beyond a BIGINT) fails alone; the
deliveries that shared its group insert are stored."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from adapters.orm import inbox
from cli import samples
from config.database import make_engine
from config.inbox import IncomingEvent
from webhooks.writer import Delivery, InboxWriter


def _delivery(event_id: str, created: int) -> Delivery:
    obj = samples.subscription_object(customer="cus_pg")
    body = json.dumps(samples.event("customer.subscription.updated", obj, event_id=event_id))
    parsed = IncomingEvent.parse(body.encode())
    # Built past the parser's checks, as a row the database itself refuses.
    return Delivery(IncomingEvent(**{**parsed.__dict__, "created": created}), body.encode(), 0)


def test_a_row_postgres_refuses_fails_alone_and_its_group_is_stored(pg_settings) -> None:
    engine = make_engine(pg_settings, isolation_level="AUTOCOMMIT")
    writer = InboxWriter(engine, lambda _ids: None, max_wait=0.3)
    batch = [_delivery(f"evt_pg{i}", 1_700_000_000) for i in range(20)]
    batch[7] = _delivery("evt_pg_huge", 10**30)

    def store(d: Delivery) -> str:
        try:
            return "stored" if writer.store(d) else "duplicate"
        except Exception as exc:
            return type(exc).__name__

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(store, batch))
    assert results[7] == "DataError"
    assert results[:7] + results[8:] == ["stored"] * 19
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(inbox)) == 19
