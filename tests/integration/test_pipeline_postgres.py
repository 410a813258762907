"""The real pipeline: gunicorn → PostgreSQL inbox → Redis → `celery worker` → PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.orm import subscriptions
from adapters.unit_of_work import SqlUnitOfWork
from cli import samples
from config.database import make_engine
from config.settings import Settings
from inbox.table import inbox
from services import admin
from tests.conftest import SECRET, env_for
from tests.support import (
    free_port,
    launch_gunicorn,
    launch_worker,
    redis_server,
    start_all,
    start_beat,
    start_gunicorn,
    start_worker,
    stop_all,
    wait_until,
)

pytestmark = pytest.mark.slow


def _event(seats: int, created: int = 1_700_000_000):
    obj = samples.subscription_object(customer="cus_pg", seats=seats)
    return samples.event("customer.subscription.updated", obj, created=created)


def _state(engine, event_id: str) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(select(inbox.c.state).where(inbox.c.event_id == event_id))


def _seats(engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.scalars(select(subscriptions.c.seats)))


@pytest.fixture
def stack(pg_settings: Settings, tmp_path: Path):
    engine = make_engine(pg_settings)
    admin.create_organization(SqlUnitOfWork(engine), "PG Org", "org_pg", "cus_pg")
    env = env_for(pg_settings.with_overrides(data_dir=tmp_path))
    port = free_port()
    procs = start_all(launch_gunicorn(env, port), launch_worker(env))
    yield engine, f"http://127.0.0.1:{port}/webhooks/stripe"
    stop_all(procs)
    engine.dispose()


def test_a_signed_event_posted_over_http_ends_applied_in_postgres(stack) -> None:
    engine, url = stack
    event = _event(seats=7)
    status, _ = samples.post(url, *samples.signed(event, SECRET))
    assert status == 200
    wait_until(lambda: _state(engine, event["id"]) == "applied", 30)
    assert _seats(engine) == [7]


def test_a_duplicate_delivery_is_stored_once_and_applied_once(stack) -> None:
    engine, url = stack
    event = _event(seats=3)
    body, headers = samples.signed(event, SECRET)
    assert [samples.post(url, body, headers)[0] for _ in range(3)] == [200, 200, 200]
    wait_until(lambda: _state(engine, event["id"]) == "applied", 30)
    with engine.connect() as conn:
        rows = conn.scalar(select(func.count()).select_from(inbox))
        attempts = conn.scalar(select(inbox.c.attempts).where(inbox.c.event_id == event["id"]))
    assert (rows, attempts) == (1, 1)


def test_broker_down_answers_200_and_the_sweeper_delivers_after_it_returns(
    pg_settings: Settings, tmp_path: Path
) -> None:
    engine = make_engine(pg_settings)
    admin.create_organization(SqlUnitOfWork(engine), "PG Org", "org_pg", "cus_pg")
    with redis_server() as (redis_url, stop_redis, start_redis):
        settings = pg_settings.with_overrides(broker_url=redis_url, data_dir=tmp_path)
        env = env_for(settings, SWEEP_AFTER_SECONDS="1", SWEEP_INTERVAL_SECONDS="1")
        port = free_port()
        web = start_gunicorn(env, port)
        try:
            stop_redis()
            event = _event(seats=11)
            status, _ = samples.post(
                f"http://127.0.0.1:{port}/webhooks/stripe", *samples.signed(event, SECRET)
            )
            assert status == 200
            assert _state(engine, event["id"]) == "received"
            # The receiver sends after it answers: wait until that send has failed for good,
            # so that the sweeper, and nothing else, can deliver the event.
            wait_until(lambda: "enqueue failed, left for the sweeper" in web.output(), 30)
            start_redis()
            worker = start_worker(env)
            beat = start_beat(env, tmp_path)
            try:
                wait_until(lambda: _state(engine, event["id"]) == "applied", 45)
            finally:
                stop_all([beat, worker])
        finally:
            web.stop()
    assert _seats(engine) == [11]
    engine.dispose()
