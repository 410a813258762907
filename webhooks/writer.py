"""Group commit for the receiver: one INSERT and one commit for many concurrent deliveries.

No thread of its own stands between a request and its insert: the first request thread to
find the writer idle leads. It waits `max_wait` seconds for others to join, takes what is
waiting (up to `max_batch`), inserts it with one multi-row
`INSERT ... ON CONFLICT DO NOTHING RETURNING event_id` in autocommit, answers every waiting
request, sends one task message, by name, naming the new events, and hands the lead to the
oldest request still waiting, if any. The others wait once, for their answer or for the
lead; nobody is woken per arrival. Each 200 still means "committed"; the commit is shared,
not skipped. If the process dies after the commit and before the message is sent, the
sweeper sends it later.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import psycopg
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from inbox.events import IncomingEvent
from inbox.states import InboxState
from inbox.table import ROW_COLUMNS, inbox, inbox_row
from webhooks.threads import ProcessThread

log = logging.getLogger("seatflow.webhooks")
# Errors of the connection, not of a row: retrying the rows one by one would not help.
_UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout, TimeoutError)


@functools.cache
def postgres_insert(rows: int) -> str:
    """The group insert of `rows` rows in PostgreSQL's own numbered placeholders ($1, $2, …),
    for psycopg's raw cursor, which sends it as written: the usual cursor parses a statement
    of more than 50 parameters again on every execution."""
    width = len(ROW_COLUMNS)
    values = ", ".join(
        "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(rows)
    )
    return (
        f"INSERT INTO {inbox.name} ({', '.join(ROW_COLUMNS)}) VALUES {values} "
        "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
    )


@dataclass(eq=False)  # each delivery is itself: two of one event are two waiting requests
class Delivery:
    event: IncomingEvent
    body: bytes
    secret_index: int
    # None: the event's first state (`inbox.table.inbox_row`); tools may store another.
    state: str | None = None
    # Why the event is not this service's (another mode or account): stored ignored.
    refused: str | None = None
    # Held until the delivery is answered (`outcome` set) or given the lead (`outcome` None).
    _wake: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    outcome: bool | BaseException | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._wake.acquire()

    def answer(self, outcome: bool | BaseException) -> None:
        self.outcome = outcome
        self._wake.release()

    def result(self) -> bool:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return bool(self.outcome)

    def row(self, received_at: datetime) -> dict[str, object]:
        body = self.body.decode("utf-8")
        row = inbox_row(self.event, body, received_at, self.secret_index, self.refused)
        if self.state is not None:
            row["state"] = self.state
        return row


class InboxWriter:
    def __init__(
        self,
        engine: Engine,
        publish: Callable[[list[str]], None],
        max_batch: int = 64,
        max_wait: float = 0.0,
        idle: float = 2.0,
    ):
        self.engine, self.publish = engine, publish
        self.max_batch, self.max_wait, self.idle = max_batch, max_wait, idle
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._statement = (
            insert(inbox)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(inbox.c.event_id)
        )
        self._on_postgres = engine.dialect.name == "postgresql"
        # On PostgreSQL: the writer's own connection and the process it belongs to (a fork
        # makes its own), kept while deliveries keep coming, closed by `_closer` when quiet.
        self._held: tuple[int, psycopg.Connection[Any]] | None = None
        self._closer = ProcessThread(self._close_when_quiet, "inbox-writer-idle")
        self._last_write = time.monotonic()
        self._lock = threading.Lock()
        self._waiting: deque[Delivery] = deque()  # not yet taken into an insert
        self._leading = False  # a request thread is writing, or a lead is being handed over

    def store(self, delivery: Delivery, timeout: float = 10) -> bool:
        """Wait until the delivery is committed; True if it is new, False for a duplicate."""
        with self._lock:  # the closer ends only under this lock: it runs while a write may
            self._closer.ensure()
            self._waiting.append(delivery)
            lead, self._leading = not self._leading, True
        if not lead and not delivery._wake.acquire(timeout=timeout):
            with self._lock:
                answered_or_led = delivery._wake.acquire(blocking=False)
                if not answered_or_led:
                    if delivery in self._waiting:  # never written: Stripe sends it again
                        self._waiting.remove(delivery)
                    raise TimeoutError("the inbox insert did not finish in time")
        if delivery.outcome is None:  # the lead is this thread's
            self._lead(delivery)
        return delivery.result()

    def _lead(self, own: Delivery) -> None:
        try:
            if self.max_wait > 0 and len(self._waiting) < self.max_batch:
                time.sleep(self.max_wait)  # whoever arrives meanwhile shares this insert
            while own.outcome is None:
                with self._lock:
                    take = min(self.max_batch, len(self._waiting))
                    batch = [self._waiting.popleft() for _ in range(take)]
                self._write(batch)
        finally:
            self._last_write = time.monotonic()
            with self._lock:
                if self._waiting:
                    self._waiting[0]._wake.release()  # its thread leads the next insert
                else:
                    self._leading = False

    def _write(self, batch: list[Delivery]) -> None:
        """Insert the batch, answer each delivery (waking its thread), then publish."""
        try:
            new, to_apply = self._insert(batch)
        except Exception as exc:
            if len(batch) == 1 or isinstance(exc, _UNREACHABLE):
                for delivery in batch:  # the database is gone: every row would fail alike
                    delivery.answer(exc)
            else:
                # One row the database refuses must not fail its neighbours: each alone.
                log.warning(
                    "group insert failed, rows retried one by one",
                    extra={"rows": len(batch), "error": type(exc).__name__},
                )
                for delivery in batch:
                    self._write([delivery])
            return
        for delivery, is_new in zip(batch, new, strict=True):
            delivery.answer(is_new)
        self.publish(to_apply)

    def _close_when_quiet(self) -> None:
        """Close the connection after `idle` seconds without an insert, and end: a quiet
        receiver holds no connection and no thread of its own (the next delivery starts
        this again)."""
        while True:
            time.sleep(self.idle)
            with self._lock:  # no lead can start while it closes
                if not self._leading and time.monotonic() - self._last_write >= self.idle:
                    self._release()
                    self._closer.done()
                    return

    def _insert(self, batch: list[Delivery]) -> tuple[list[bool], list[str]]:
        """Whether each delivery is new, and the new events to apply, in order."""
        now = datetime.now(UTC)
        rows: dict[str, dict[str, object]] = {}
        for d in batch:  # the same event twice in one batch: the first one counts
            rows.setdefault(d.event.event_id, d.row(now))
        params = list(rows.values())
        try:
            inserted = self._execute(params)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            inserted = self._execute(params)  # a connection the database dropped
        fresh, seen = set(inserted), set()
        result = []
        for d in batch:
            result.append(d.event.event_id in fresh and d.event.event_id not in seen)
            seen.add(d.event.event_id)
        to_apply = [
            d.event.event_id
            for d, is_new in zip(batch, result, strict=True)
            if is_new and rows[d.event.event_id]["state"] == InboxState.RECEIVED
        ]
        return result, to_apply

    def _execute(self, params: list[dict[str, object]]) -> list[str]:
        # One statement for many rows, one round trip, in autocommit (no BEGIN/COMMIT).
        if not self._on_postgres:  # SQLite: SQLAlchemy's "insertmanyvalues"
            with self.engine.begin() as conn:
                return list(conn.scalars(self._statement, params))
        values = tuple(row[name] for row in params for name in ROW_COLUMNS)
        statement = postgres_insert(len(params))
        driver = None
        try:
            driver = self._connection()
            with psycopg.RawCursor(driver) as cursor:
                cursor.execute(statement, values)
                return [row[0] for row in cursor.fetchall()]
        except psycopg.Error as exc:  # named as SQLAlchemy names it, for the callers
            lost = driver is not None and (driver.closed or driver.broken)  # not a failed connect
            if lost:
                self._release()
            raise DBAPIError.instance(
                statement,
                values,
                exc,
                psycopg.Error,
                hide_parameters=True,
                connection_invalidated=lost,
            ) from exc

    def _connection(self) -> psycopg.Connection[Any]:
        """The writer's own connection to PostgreSQL, kept from one insert to the next
        while deliveries keep coming: a pool checkout and SQLAlchemy's execution around each
        insert cost a quarter of the writer's time. Taken from the engine's pool (its settings)
        and detached from it, in autocommit; used with psycopg's raw cursor (`postgres_insert`)."""
        held = self._held
        if held is None or held[0] != os.getpid():
            pooled = self.engine.raw_connection()
            driver = cast(psycopg.Connection[Any], pooled.driver_connection)
            pooled.detach()  # the pool opens another in its place; this one is the writer's
            driver.autocommit = True
            self._held = held = (os.getpid(), driver)
        return held[1]

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is not None and held[0] == os.getpid():
            held[1].close()
