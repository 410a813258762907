"""Real processes for fault tests: gunicorn, `celery worker`/`beat`, PostgreSQL, Redis."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from adapters.orm import licenses, seat_ledger, subscriptions
from cli import samples
from config.celery import make_celery
from config.database import make_engine
from config.settings import Settings
from config.tasks import PROCESS_STRIPE_EVENTS
from inbox.table import inbox
from tests.builders import World, build_world, subscription_event
from tests.conftest import SECRET, env_for
from tests.support import (
    Process,
    free_port,
    launch_gunicorn,
    launch_worker,
    start_all,
    start_beat,
    stop_all,
)

CUSTOMER = "cus_acme"


@dataclass
class Stack:
    settings: Settings
    engine: Engine
    world: World
    tmp: Path
    env: dict[str, str]
    procs: list[Process] = field(default_factory=list)
    port: int = 0
    # Started, not yet waited for: see `web`.
    starting: list[Process] = field(default_factory=list)

    @property
    def hook(self) -> str:
        self.ready()
        return f"http://127.0.0.1:{self.port}/webhooks/stripe"

    def web(self, ready: bool = True) -> Process:
        """gunicorn, once its /healthz answers. With `ready=False` it is waited for when the
        stack is next used (a worker started, a delivery posted): so it starts alongside the
        worker that follows."""
        self.port = self.port or free_port()
        proc = self._keep(launch_gunicorn(self.env, self.port, threads=8))
        self.starting.append(proc)
        if ready:
            self.ready()
        return proc

    def worker(self, concurrency: int = 1, pool: str = "prefork", **env: str) -> Process:
        """A `celery worker`, ready; `env` adds variables for this one (a fault point, say)."""
        proc = launch_worker({**self.env, **env}, concurrency=concurrency, pool=pool)
        self.starting.append(self._keep(proc))
        self.ready()
        return proc

    def ready(self) -> None:
        """Wait until every process started so far is ready."""
        starting, self.starting = self.starting, []
        start_all(*starting)

    def beat(self) -> Process:
        return self._keep(start_beat(self.env, self.tmp))

    def _keep(self, proc: Process) -> Process:
        self.procs.append(proc)
        return proc

    def send(self, event_ids: list[str]) -> None:
        """One task message naming `event_ids`, as the receiver sends after its commit."""
        app = make_celery(self.settings)
        try:
            app.send_task(PROCESS_STRIPE_EVENTS, args=[event_ids])
        finally:
            app.close()

    def post(self, event: dict[str, Any]) -> int:
        return samples.post(self.hook, *samples.signed(event, SECRET))[0]

    def state(self, event_id: str) -> tuple[str, int] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(inbox.c.state, inbox.c.attempts).where(inbox.c.event_id == event_id)
            ).first()
        return (row[0], row[1]) if row else None

    def count(self, table: Any, *where: Any) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)

    def seats(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(subscriptions.c.seats)) or 0)

    def effects(self, event_id: str) -> tuple[int, int, int]:
        """(inbox rows, ledger entries, license versions) caused by one event."""
        return (
            self.count(inbox, inbox.c.event_id == event_id),
            self.count(
                seat_ledger,
                seat_ledger.c.recorded_at.isnot(None),
                seat_ledger.c.cause == "stripe_sync",
                seat_ledger.c.seats == self.seats(),
            ),
            self.count(licenses, licenses.c.cause.like(f"%:{event_id}")),
        )

    def lock_organization(self) -> Any:
        """Hold the organization's row lock from outside, so a task blocks mid-way."""
        conn = self.engine.connect()
        conn.execute(text("SELECT id FROM organizations FOR UPDATE"))
        return conn

    def blocked_on_lock(self) -> bool:
        return self.waiting_for_locks() > 0

    def waiting_for_locks(self) -> int:
        """How many sessions of this database wait for a lock someone else holds."""
        with self.engine.connect() as conn:
            return int(
                conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()"
                    )
                )
                or 0
            )


@pytest.fixture
def stack_factory(pg_settings: Settings, tmp_path: Path) -> Iterator[Any]:
    made: list[Stack] = []

    def make(**env: str) -> Stack:
        settings = pg_settings.with_overrides(data_dir=tmp_path)
        if "CELERY_BROKER_URL" in env:
            settings = settings.with_overrides(broker_url=env.pop("CELERY_BROKER_URL"))
        engine = make_engine(settings, pool_size=10)
        world = build_world(engine, customer=CUSTOMER)
        stack = Stack(settings, engine, world, tmp_path, env_for(settings, **env))
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stop_all(list(reversed(stack.procs)))
        stack.engine.dispose()


def seats_event(seats: int, created: int) -> dict[str, Any]:
    event = subscription_event(CUSTOMER, seats=seats, created=created)
    event["type"] = "customer.subscription.updated"
    return event
