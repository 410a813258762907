"""Redis stopped, Redis emptied, PostgreSQL stopped: nothing stored is lost."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import redis as redis_client

from adapters import migrations
from adapters.unit_of_work import SqlUnitOfWork
from cli import samples
from services import inbox as inbox_service
from tests.builders import store_event
from tests.conftest import SECRET, env_for
from tests.faults.conftest import seats_event
from tests.support import (
    free_port,
    postgres_server,
    queued_event_ids,
    redis_server,
    start_gunicorn,
    wait_until,
)

pytestmark = pytest.mark.slow


def _failed_sends(web_log: str) -> int:
    """How many events the receiver could not send (its log names a count per message)."""
    return sum(map(int, re.findall(r"enqueue failed, left for the sweeper events=(\d+)", web_log)))


def test_redis_stopped_still_answers_200_and_the_sweeper_delivers_later(stack_factory) -> None:
    with redis_server() as (url, stop_redis, start_redis):
        stack = stack_factory(
            CELERY_BROKER_URL=url, SWEEP_AFTER_SECONDS="1", SWEEP_INTERVAL_SECONDS="1"
        )
        web = stack.web()
        stop_redis()
        events = [seats_event(seats=n, created=1_700_000_000 + n) for n in range(2, 6)]
        started = time.monotonic()
        assert [stack.post(e) for e in events] == [200] * 4
        assert time.monotonic() - started < 5  # publishing fails fast, the answer is quick
        assert {stack.state(e["id"]) for e in events} == {("received", 0)}
        # Every send has failed for good before Redis returns: only the sweeper can deliver.
        wait_until(lambda: _failed_sends(web.output()) == len(events), 30)
        start_redis()
        stack.worker()
        stack.beat()
        wait_until(
            lambda: all(stack.state(e["id"])[0] in ("applied", "skipped_stale") for e in events), 45
        )
    assert stack.seats() == 5


def test_redis_restarted_empty_loses_no_stored_event(stack_factory) -> None:
    with redis_server() as (url, _stop_redis, _start_redis):
        stack = stack_factory(
            CELERY_BROKER_URL=url, SWEEP_AFTER_SECONDS="2", SWEEP_INTERVAL_SECONDS="1"
        )
        stack.web()
        events = [seats_event(seats=n, created=1_700_001_000 + n) for n in range(2, 12)]
        assert [stack.post(e) for e in events] == [200] * 10
        ids = [e["id"] for e in events]
        client = redis_client.Redis.from_url(url)
        # Queued, no worker yet (the receiver may carry several in one message).
        queue = stack.settings.queue_name
        wait_until(lambda: sorted(queued_event_ids(client, queue)) == sorted(ids), 10)
        client.flushall()  # as a restart without persistence would
        assert client.llen(stack.settings.queue_name) == 0
        stack.worker()
        stack.beat()
        wait_until(
            lambda: all(stack.state(e["id"])[0] in ("applied", "skipped_stale") for e in events), 45
        )
    assert stack.seats() == 11
    assert sum(stack.state(e["id"])[1] for e in events) == 10  # each processed once


def test_rows_a_sweep_left_queued_are_swept_again_after_redis_restarts_empty(
    stack_factory,
) -> None:
    with redis_server() as (url, stop_redis, start_redis):
        stack = stack_factory(
            CELERY_BROKER_URL=url, SWEEP_AFTER_SECONDS="1", SWEEP_INTERVAL_SECONDS="1"
        )
        # Stored, never sent (the receiver died between its commit and its send).
        events = [
            store_event(stack.engine, seats_event(seats=n, created=1_700_001_500 + n))
            for n in range(2, 8)
        ]
        # A sweep sends them again, with no worker to run them yet...
        swept = inbox_service.sweep(
            SqlUnitOfWork(stack.engine),
            now=datetime.now(UTC),
            older_than=timedelta(0),
            enqueue=stack.send,
        )
        assert sorted(swept) == sorted(events)
        assert {stack.state(e) for e in events} == {("queued", 0)}
        client = redis_client.Redis.from_url(url)
        assert client.llen(stack.settings.queue_name) == 1
        # ... and Redis restarts empty: the rows say `queued`, no message exists any more.
        stop_redis()
        start_redis()
        assert client.llen(stack.settings.queue_name) == 0
        stack.worker()
        stack.beat()
        wait_until(
            lambda: all(stack.state(e)[0] in ("applied", "skipped_stale") for e in events), 45
        )
    assert stack.seats() == 7
    assert sum(stack.state(e)[1] for e in events) == len(events)  # each processed once


def test_postgres_stopped_answers_503_quickly_and_the_retry_succeeds(pg_settings, tmp_path) -> None:
    with postgres_server() as pg:
        migrations.upgrade(pg.url)
        settings = pg_settings.with_overrides(database_url=pg.url, data_dir=tmp_path)
        port = free_port()
        web = start_gunicorn(env_for(settings), port)
        hook = f"http://127.0.0.1:{port}/webhooks/stripe"
        event = seats_event(seats=3, created=1_700_002_000)
        body, headers = samples.signed(event, SECRET)
        try:
            pg.stop()
            started = time.monotonic()
            status, answer = samples.post(hook, body, headers, timeout=30)
            elapsed = time.monotonic() - started
            assert (status, "storage unavailable" in answer) == (503, True)
            assert elapsed < 10, elapsed
            pg.start()
            # Stripe retries the same delivery (a fresh signature time, the same body).
            status, _ = samples.post(hook, *samples.signed(event, SECRET))
            assert status == 200
        finally:
            web.stop()
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{urlsplit(pg.url).port}/postgres"
        ) as conn:
            assert conn.execute("SELECT count(*) FROM inbox").fetchone() == (1,)
        assert "Traceback" not in web.output()
