"""Soak: signed events from several organizations while workers are killed and restarted at
random and Redis restarts empty once. It runs for SOAK_SECONDS: 30 by default, in every test
run; `make soak` runs it for 300. It asserts: 0 lost, 0 applied twice, and a final state equal
to a replay of the same events on a clean database."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters import migrations
from adapters.orm import seat_ledger, subscriptions
from adapters.unit_of_work import SqlUnitOfWork
from cli import samples
from config.database import make_engine
from inbox.table import inbox
from services import stripe_events
from tests.builders import build_world, subscription_event
from tests.conftest import SECRET, env_for
from tests.fakes import fake_deps
from tests.support import (
    children_of,
    free_port,
    launch_gunicorn,
    launch_worker,
    redis_server,
    start_all,
    start_beat,
    start_worker,
    stop_all,
    wait_until,
)

SECONDS = int(os.environ.get("SOAK_SECONDS", "30"))
pytestmark = [pytest.mark.slow, pytest.mark.chaos, pytest.mark.timeout(SECONDS + 900)]
ORGS = 6
# Seconds between two blows: 8 to 20 in a long run, shorter in a short one so it gets several.
PAUSE = (min(8.0, SECONDS / 8), min(20.0, SECONDS / 4))


def plan(rate: float) -> list[dict]:
    """Every organization's seats climb one by one; deliveries are shuffled a little and
    10 % are delivered twice; a few events are of types seatflow ignores."""
    per_org = int(SECONDS * rate / ORGS) + 1
    events: list[dict] = []
    for org in range(ORGS):
        for k in range(per_org):
            event = subscription_event(
                f"cus_soak{org}", seats=k + 2, created=1_700_000_000 + k, sub_id=f"sub_soak{org}"
            )
            event["type"] = "customer.subscription.updated"
            events.append(event)
    random.shuffle(events)
    events += random.sample(events, len(events) // 10)
    events += [
        samples.event("charge.succeeded", {"id": f"ch_{i}", "object": "charge"}) for i in range(20)
    ]
    random.shuffle(events)
    return events


def test_soak(pg_settings, tmp_path: Path) -> None:
    engine = make_engine(pg_settings, pool_size=10)
    for org in range(ORGS):
        build_world(engine, customer=f"cus_soak{org}", sub_id=f"sub_soak{org}")
    with redis_server() as (redis_url, stop_redis, start_redis):
        settings = pg_settings.with_overrides(broker_url=redis_url, data_dir=tmp_path)
        env = env_for(
            settings,
            SWEEP_AFTER_SECONDS="5",
            SWEEP_INTERVAL_SECONDS="2",
            BROKER_VISIBILITY_TIMEOUT="15",
        )
        port = free_port()
        web, *workers = start_all(
            launch_gunicorn(env, port, threads=8),
            *(launch_worker(env, concurrency=2) for _ in range(2)),
        )
        beat = start_beat(env, tmp_path)
        hook = f"http://127.0.0.1:{port}/webhooks/stripe"
        events = plan(rate=20)
        accepted: list[str] = []
        chaos_log: list[str] = []
        stop = threading.Event()

        def send() -> None:
            # The events spread evenly over SECONDS: each one is due at its own time, so the
            # time the posts take does not stretch the run beyond SECONDS.
            interval = SECONDS / len(events)
            began = time.monotonic()
            for number, event in enumerate(events):
                if stop.is_set():
                    return
                status, _ = samples.post(hook, *samples.signed(event, SECRET))
                if status == 200:
                    accepted.append(event["id"])
                time.sleep(max(0.0, began + (number + 1) * interval - time.monotonic()))

        def chaos() -> None:
            redis_restarted = False
            started = time.monotonic()
            kills = 0
            # Until the sender is done and there were at least three kills and the Redis
            # restart: a short run must not pass with less chaos than it reports.
            while not (stop.is_set() and kills >= 3 and redis_restarted):
                pause = random.uniform(*PAUSE)
                if kills >= 3 and redis_restarted:
                    # Enough chaos for the report: the pause ends when the sending does.
                    if stop.wait(pause):
                        break
                else:
                    time.sleep(pause)
                kills += 1
                index = random.randrange(len(workers))
                victim = workers[index]
                if random.random() < 0.5 and children_of(victim.pid):
                    os.kill(random.choice(children_of(victim.pid)), signal.SIGKILL)
                    chaos_log.append("killed a worker child")
                else:
                    victim.stop(signal.SIGKILL)
                    workers[index] = start_worker(env, concurrency=2)
                    chaos_log.append("killed a whole worker, started a new one")
                if not redis_restarted and (
                    time.monotonic() - started > SECONDS / 2 or stop.is_set()
                ):
                    stop_redis()
                    time.sleep(2)
                    start_redis()
                    redis_restarted = True
                    chaos_log.append("restarted Redis empty")

        sender = threading.Thread(target=send, daemon=True)
        monkey = threading.Thread(target=chaos, daemon=True)
        sender.start()
        monkey.start()
        sender.join(SECONDS + 120)
        stop.set()
        monkey.join(4 * PAUSE[1] + 60)
        assert not monkey.is_alive()

        def settled() -> bool:
            with engine.connect() as conn:
                pending = conn.scalar(
                    select(inbox.c.id)
                    .where(inbox.c.state.notin_(["applied", "skipped_stale", "ignored"]))
                    .limit(1)
                )
            return pending is None

        try:
            wait_until(settled, 180, interval=1)
        finally:
            stop_all([web, beat, *workers])

    unique = set(accepted)
    with engine.connect() as conn:
        rows = conn.execute(select(inbox.c.event_id, inbox.c.state, inbox.c.payload)).all()
        ledger = conn.execute(
            select(seat_ledger.c.organization_id, seat_ledger.c.seats).order_by(seat_ledger.c.id)
        ).all()
        final = sorted(
            tuple(r)
            for r in conn.execute(
                select(subscriptions.c.stripe_subscription_id, subscriptions.c.seats)
            ).all()
        )
    stored = {row.event_id for row in rows}
    lost = unique - stored
    by_org: dict[str, list[int]] = defaultdict(list)
    for org_id, seats in ledger:
        by_org[org_id].append(seats)
    applied_twice = sum(len(seats) - len(set(seats)) for seats in by_org.values())

    replay = _replay(tmp_path, [json.loads(row.payload) for row in rows])
    report = {
        "seconds": SECONDS,
        "deliveries": len(accepted),
        "distinct events": len(unique),
        "lost": len(lost),
        "applied twice": applied_twice,
        "chaos": chaos_log,
        "final": final,
        "replay": replay,
    }
    print("SOAK", json.dumps(report, indent=1))
    assert sum("killed" in blow for blow in chaos_log) >= 3
    assert "restarted Redis empty" in chaos_log
    assert lost == set()
    assert applied_twice == 0
    assert final == replay
    engine.dispose()


def _replay(tmp_path: Path, events: list[dict]) -> list[tuple[str, int]]:
    """The same events applied one by one, in a shuffled order, on a clean SQLite database."""
    url = f"sqlite:///{tmp_path / 'replay.sqlite'}"
    migrations.upgrade(url)
    engine = make_engine(pg_settings_like(url))
    for org in range(ORGS):
        build_world(engine, customer=f"cus_soak{org}", sub_id=f"sub_soak{org}")
    from tests.builders import store_event

    deps, uow = fake_deps(), SqlUnitOfWork(engine)
    for event in random.sample(events, len(events)):
        stripe_events.process_stripe_event(store_event(engine, event), uow, deps)
    with engine.connect() as conn:
        return sorted(
            tuple(r)
            for r in conn.execute(
                select(subscriptions.c.stripe_subscription_id, subscriptions.c.seats)
            ).all()
        )


def pg_settings_like(url: str):
    from config.settings import Settings

    return Settings(mode="test", database_url=url)
