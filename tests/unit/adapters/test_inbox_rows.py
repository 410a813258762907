"""One way into the inbox: a delivered event and the same event found by reconciliation
become the same row, apart from when and how it was received."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from domain.reconciliation_jobs import Summary
from inbox.events import IncomingEvent, NotAnEvent
from inbox.states import InboxState
from inbox.table import inbox, inbox_row
from services import recovery
from tests.builders import subscription_event
from tests.fakes import FakeGateway, FixedClock, fake_deps
from webhooks.writer import Delivery, InboxWriter

RECEIPT = {"id", "received_at", "updated_at", "secret_index"}
NOW = datetime(2026, 3, 1, tzinfo=UTC)


@dataclasses.dataclass
class ListingGateway(FakeGateway):
    """Lists the given events as Stripe's events API would, on every call."""

    listed: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def list_events(self, **_: Any) -> Iterator[list[dict[str, Any]]]:
        yield self.listed


def stored(engine: Engine, event_id: str) -> dict[str, Any]:
    with engine.begin() as conn:
        row = dict(conn.execute(select(inbox).where(inbox.c.event_id == event_id)).one()._mapping)
        conn.execute(delete(inbox).where(inbox.c.event_id == event_id))
    return row


def event(event_type: str) -> dict[str, Any]:
    found = subscription_event("cus_x", created=1_700_000_000)
    found["type"], found["account"], found["livemode"] = event_type, "acct_1", True
    return found


@pytest.mark.parametrize(
    ("event_type", "first"),
    [("customer.subscription.updated", "received"), ("invoice.created", "ignored")],
)
def test_the_receiver_and_recovery_store_the_same_row(sqlite_settings, event_type, first) -> None:
    engine = make_engine(sqlite_settings)
    missed = event(event_type)
    body = json.dumps(missed).encode()
    InboxWriter(engine, lambda _ids: None).store(Delivery(IncomingEvent.parse(body), body, 1))
    delivered = stored(engine, missed["id"])

    deps = fake_deps(FixedClock(NOW), ListingGateway(listed=[missed]))
    found = recovery.missed_events(SqlUnitOfWork(engine), deps, Summary(), dry_run=False)
    recovered = stored(engine, missed["id"])

    assert found == [missed["id"]]
    assert delivered["state"] == first
    assert {k: v for k, v in delivered.items() if k not in RECEIPT} == {
        k: v for k, v in recovered.items() if k not in RECEIPT
    }
    assert (delivered["secret_index"], recovered["secret_index"]) == (1, None)
    assert recovered["received_at"] == recovered["updated_at"] == NOW


def test_a_parsed_event_and_its_dict_give_the_same_row() -> None:
    missed = event("customer.subscription.deleted")
    body = json.dumps(missed)
    parsed = inbox_row(IncomingEvent.parse(body.encode()), body, NOW, 0)
    assert parsed == inbox_row(missed, body, NOW, 0)
    assert parsed["state"] == InboxState.RECEIVED
    assert (parsed["account"], parsed["livemode"], parsed["attempts"]) == ("acct_1", True, 0)


def test_a_dict_that_is_not_an_event_has_no_row() -> None:
    with pytest.raises(NotAnEvent):
        inbox_row({"object": "invoice", "id": "in_1"}, "{}", NOW, None)
