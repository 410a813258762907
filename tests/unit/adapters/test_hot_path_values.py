"""What every applied event makes costs no more than it must: a seat-ledger entry and a
license version are plain values (only inserted, and read back by queries on their tables,
never through the mapping), and the message bus asks only the organizations that recorded
something."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.mapping import start_mappers
from domain.licenses import License
from domain.model import LedgerEntry
from services import messagebus
from tests.fakes import fake_deps


def test_a_seat_ledger_entry_is_a_plain_value_not_a_mapped_one() -> None:
    start_mappers()
    entry = LedgerEntry("node_locked", 2, "month", "stripe_sync", "evt_1", datetime.now(UTC))
    assert "_sa_instance_state" not in vars(entry)
    assert entry.seats == 2


def test_a_license_version_is_a_plain_value_not_a_mapped_one() -> None:
    start_mappers()
    now = datetime.now(UTC)
    version = License("lic_1", "org_1", "node_locked", 3, "month", now, 1, now, "stripe_sync:e")
    assert "_sa_instance_state" not in vars(version)
    assert version.claims()["seats"] == 3


class _Quiet:
    """An organization that recorded nothing: asking it for its events is a waste."""

    events: list[Any] = []

    def collect_events(self) -> list[Any]:
        raise AssertionError("asked an organization without events")


class _Organizations:
    def __init__(self, seen: list[Any]) -> None:
        self.seen = seen


class _Uow:
    def __init__(self, seen: list[Any]) -> None:
        self.organizations = _Organizations(seen)


def test_the_message_bus_asks_only_organizations_that_recorded_events() -> None:
    uow: Any = _Uow([_Quiet() for _ in range(50)])
    assert messagebus.handle(uow, fake_deps()) == 0
