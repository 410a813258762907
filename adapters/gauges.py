"""The database's state as metrics, read at scrape time by the leading beat only.

Every process reading the same rows would export the same value once per process, app and
replica: a `sum()` over them counts the inbox several times, and every scrape of every process
would query the database. The beat that holds the beat lock is already unique, and a standby
that takes over the lock takes over these gauges with it (see `config.metrics` for what every
process counts itself). The rows are read through the repositories, in one unit of work.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import NamedTuple

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from adapters.unit_of_work import SqlUnitOfWork
from config.metrics import serve_collectors
from inbox.states import PENDING_STATES, InboxState


class Counted(NamedTuple):
    """One family of `DATABASE_COUNTS`: what the leading beat counts in the database."""

    name: str
    kind: type[GaugeMetricFamily] | type[CounterMetricFamily]
    doc: str
    label: str
    read: Callable[[SqlUnitOfWork], Mapping[str, int]]  # label value -> count
    present: tuple[str, ...] = ()  # label values exported as 0 when no row has them


DATABASE_COUNTS = (
    Counted(
        "seatflow_inbox_rows",
        GaugeMetricFamily,
        "Inbox rows by state",
        "state",
        lambda uow: uow.inbox.counts_by_state(),
        present=tuple(InboxState),
    ),
    Counted(
        "seatflow_upgrades",
        GaugeMetricFamily,
        "Upgrades by state",
        "state",
        lambda uow: uow.upgrades.count_by_state(),
    ),
    Counted(
        "seatflow_upgrade_transitions",
        CounterMetricFamily,
        "Upgrade state changes ever recorded, by the state entered",
        "to",
        lambda uow: uow.upgrades.count_transitions_by_state(),
    ),
    Counted(
        "seatflow_drift_records",
        CounterMetricFamily,
        "Drift records ever written by reconciliation, by kind",
        "kind",
        lambda uow: uow.drift.count_by_kind(),
    ),
    Counted(  # 0 for a kind without any, so that the first one counts in increase()
        "seatflow_drift_records_flagged",
        CounterMetricFamily,
        "Drift records where Stripe took another amount than was charged, by kind",
        "kind",
        lambda uow: uow.drift.count_flagged_by_kind(),
    ),
)
# The inbox's oldest event still to apply, and its oldest dead one.
OLDEST = (("unapplied", PENDING_STATES), ("dead", frozenset({InboxState.DEAD})))


class DatabaseCollector(Collector):
    """Inbox rows by state, ages of the oldest unapplied and dead events, upgrades by state,
    upgrade transitions and drift records (both append-only, hence counters).

    Yields nothing unless `leading()`: one process exports these (see the module docstring).
    """

    def __init__(self, engine: Engine, leading: Callable[[], bool] = lambda: True) -> None:
        self.engine, self.leading = engine, leading

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        if not self.leading():
            return
        now = time.time()
        try:
            with SqlUnitOfWork(self.engine) as uow:
                counts = [counted.read(uow) for counted in DATABASE_COUNTS]
                oldest: dict[str, datetime | None] = {
                    which: uow.inbox.oldest_received(sorted(states)) for which, states in OLDEST
                }
        except Exception:  # a scrape must not fail because the database is away
            return
        for counted, found in zip(DATABASE_COUNTS, counts, strict=True):
            family = counted.kind(counted.name, counted.doc, labels=[counted.label])
            values = dict.fromkeys(map(str, counted.present), 0) | dict(found)
            for value, count in sorted(values.items()):
                family.add_metric([value], count)
            yield family
        for which, first in oldest.items():
            age = GaugeMetricFamily(
                f"seatflow_inbox_oldest_{which}_age_seconds",
                f"Age of the oldest {which} event (0 when there is none)",
            )
            age.add_metric([], max(0.0, now - first.timestamp()) if first else 0.0)
            yield age


def serve_database_gauges(
    port: int, engine: Engine, leading: Callable[[], bool], host: str = "127.0.0.1"
) -> bool:
    """Expose the database's state on `port`, on every scrape for which `leading()` is true."""
    return serve_collectors(port, host, DatabaseCollector(engine, leading))
