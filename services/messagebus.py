"""What reacts to the aggregate's events: one registry, handled before the commit.

The aggregate records what happened (`Organization.events`); `commit` hands each event to its
handlers inside the same transaction, so the change and what it causes (a new license version)
are stored together or not at all, and a replayed event finds both done.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from domain.events import (
    Event,
    SubscriptionChanged,
    SubscriptionRenewed,
    SubscriptionSynced,
    UpgradeApplied,
)
from domain.ports import UnitOfWork
from domain.renewal import ScheduledChangeApplied
from services import licenses
from services.deps import Deps

Handler = Callable[[Any, UnitOfWork, Deps], object]

HANDLERS: dict[type[Event], list[Handler]] = {
    SubscriptionSynced: [licenses.issue_for_change],
    UpgradeApplied: [licenses.issue_for_change],
    SubscriptionRenewed: [licenses.issue_for_change],
    ScheduledChangeApplied: [licenses.issue_for_change],
}


_events_of = operator.attrgetter("events")


def handle(uow: UnitOfWork, deps: Deps) -> int:
    """Handle every event the aggregates of `uow` recorded, including ones handlers record."""
    handled = 0
    seen = uow.organizations.seen
    # A batch's unit of work holds hundreds of aggregates, one or two with events: looked
    # for at C speed before any is collected.
    while any(map(_events_of, seen)):
        events = [e for org in seen if org.events for e in org.collect_events()]
        for event in events:
            for handler in HANDLERS[type(event)]:
                handler(event, uow, deps)
            handled += 1
    return handled


def commit(uow: UnitOfWork, deps: Deps) -> None:
    handle(uow, deps)
    uow.commit()


__all__ = ["HANDLERS", "SubscriptionChanged", "commit", "handle"]
