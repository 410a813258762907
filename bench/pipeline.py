"""Benchmarks of the workers and of the whole pipeline, on PostgreSQL and Redis.

    python -m bench.pipeline throughput [--events 6000 --batch 1,8,64 --concurrency 1,2]
    python -m bench.pipeline latency [--rate 100 --seconds 30]   # HTTP ack → applied
    python -m bench.pipeline memory [--events 100000]     # RSS of web and worker, over time

Events are full-size `customer.subscription.updated` deliveries (bench/events.py;
`--small-events` for the small samples). Each run uses a throwaway database and its own
queue; load stays on loopback.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import redis

from adapters import migrations
from bench import events as bench_events
from bench import results
from cli import samples
from inbox.events import IncomingEvent
from tests.support import free_port, start_gunicorn, start_worker, wait_until
from webhooks.writer import Delivery, InboxWriter

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
SECRET = "whsec_bench_secret_for_signing_deliveries"
ORGS = 50


@contextmanager
def database() -> Iterator[str]:
    name = f"seatflow_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        migrations.upgrade(url)
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(
                "INSERT INTO organizations (id, name, stripe_customer_id) SELECT "
                "'org_' || g, 'Org ' || g, 'cus_' || g FROM generate_series(1, %s) g",
                (ORGS,),
            )
        yield url
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def env_for(url: str, queue: str, data: Path) -> dict[str, str]:
    """The settings of a deployment (production mode: JSON logs, no development defaults) on
    this database and queue."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    return env | {
        "SEATFLOW_ENV": "production",
        "STRIPE_API_KEY": "sk_test_" + secrets.token_urlsafe(24),
        "SEATFLOW_ALLOW_TEST_KEYS": "true",
        "SEATFLOW_SECRET_KEY": secrets.token_hex(32),
        "SEATFLOW_PUBLIC_URL": "https://billing.example.com",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "SEATFLOW_QUEUE": queue,
        "STRIPE_WEBHOOK_SECRETS": SECRET,
        "SEATFLOW_DATA_DIR": str(data),
        "WORKER_METRICS_PORT": "0",
        "LICENSE_SIGNING_KEY": _key(),
        "SWEEP_AFTER_SECONDS": "600",
    }


def _key() -> str:
    from adapters.license_signer import new_private_key_b64

    return new_private_key_b64()


def event(i: int, small: bool = False) -> dict[str, Any]:
    """Subscription updates for 50 organizations, seats climbing (each one a real change)."""
    return bench_events.nth(i, ORGS, small)


def terminal(url: str) -> int:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT count(*) FROM inbox WHERE state IN "
            "('applied', 'skipped_stale', 'ignored', 'dead')"
        ).fetchone()
    return int(row[0]) if row else 0


def throughput(
    events: int, batches: list[int], concurrencies: list[int], small: bool = False
) -> list[dict[str, Any]]:
    """Events applied per second, for each message size (events per task) and concurrency."""
    results = []
    for batch, concurrency in ((b, c) for b in batches for c in concurrencies):
        with database() as url, tempfile.TemporaryDirectory() as tmp:
            queue = f"bench-{secrets.token_hex(3)}"
            env = env_for(url, queue, Path(tmp))
            from sqlalchemy import create_engine

            writer = InboxWriter(create_engine(url), lambda ids: None)
            for i in range(events):
                body = bench_events.body(event(i, small))
                writer.store(Delivery(IncomingEvent.parse(body), body, 0, "received"))
            from config.celery import make_celery
            from config.settings import Settings

            app = make_celery(Settings.from_env(env))
            with psycopg.connect(url.replace("+psycopg", "")) as conn:
                ids = [r[0] for r in conn.execute("SELECT event_id FROM inbox ORDER BY id")]
            # Every message is queued first, as the receiver sends them (one per group commit
            # of `batch` events); the clock starts once the worker is ready.
            with app.producer_or_acquire() as producer:
                for k in range(0, len(ids), batch):
                    app.send_task(
                        "seatflow.process_stripe_events",
                        args=[ids[k : k + batch]],
                        producer=producer,
                    )
            worker = start_worker(env, concurrency=concurrency)
            started = time.perf_counter()
            done_at_start = terminal(url)
            try:
                wait_until(lambda: terminal(url) >= events, 900, interval=0.2)
                elapsed = time.perf_counter() - started
            finally:
                worker.stop()
                redis.Redis().delete(queue)
            counted = events - done_at_start
            results.append(
                {
                    "events_per_message": batch,
                    "concurrency": concurrency,
                    "events": counted,
                    "seconds": round(elapsed, 1),
                    "events_per_s": round(counted / elapsed),
                }
            )
            print(json.dumps(results[-1]), flush=True)
    return results


def _sender(
    port: int, rate: float, seconds: float, stop: threading.Event, small: bool = False
) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    sent, start, i = 0, time.perf_counter(), 0
    while not stop.is_set() and time.perf_counter() - start < seconds:
        due = start + sent / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        body, headers = samples.signed(event(1_000_000 + i, small), SECRET)
        conn.request("POST", "/webhooks/stripe", body, headers)
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
        sent, i = sent + 1, i + 1
    return sent


def latency(rate: float, seconds: float, small: bool = False) -> dict[str, Any]:
    with database() as url, tempfile.TemporaryDirectory() as tmp:
        queue = f"bench-{secrets.token_hex(3)}"
        env = env_for(url, queue, Path(tmp))
        port = free_port()
        web, worker = start_gunicorn(env, port, threads=8), start_worker(env, concurrency=2)
        try:
            sent = _sender(port, rate, seconds, threading.Event(), small)
            wait_until(lambda: terminal(url) >= sent, 120, interval=0.2)
        finally:
            web.stop()
            worker.stop()
            redis.Redis().delete(queue)
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            rows = conn.execute(
                "SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY "
                "extract(epoch FROM applied_at - received_at) * 1000), max(extract(epoch FROM "
                "applied_at - received_at) * 1000) FROM inbox"
            ).fetchone()
        assert rows is not None
        p50, p95, p99 = (float(x) for x in rows[0])
        result = {
            "rate": rate,
            "seconds": seconds,
            "events": sent,
            "p50_ms": round(p50, 1),
            "p95_ms": round(p95, 1),
            "p99_ms": round(p99, 1),
            "max_ms": round(float(rows[1]), 1),
        }
        print(json.dumps(result), flush=True)
        return result


def rss_mib(pid: int) -> float:
    """RSS of a process and its children (gunicorn and Celery fork workers)."""
    out = subprocess.run(
        ["ps", "-o", "rss=", "--pid", str(pid), "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return round(sum(int(x) for x in out.split()) / 1024, 1)


def flood(
    port: int,
    first: int,
    count: int,
    threads: int = 4,
    make: Callable[[int], dict[str, Any]] = event,
) -> None:
    """Send `count` distinct signed events (`make(i)`) as fast as `threads` keep-alive
    clients can."""

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(first + offset, first + count, threads):
            body, headers = samples.signed(make(i), SECRET)
            conn.request("POST", "/webhooks/stripe", body, headers)
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status

    pool = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def memory(events: int, small: bool = False) -> list[dict[str, Any]]:
    """RSS of the web and worker process groups after each quarter of `events`."""
    with database() as url, tempfile.TemporaryDirectory() as tmp:
        queue = f"bench-{secrets.token_hex(3)}"
        env = env_for(url, queue, Path(tmp))
        port = free_port()
        web, worker = start_gunicorn(env, port, threads=8), start_worker(env, concurrency=2)
        taken = [
            {"events": 0, "web_rss_mib": rss_mib(web.pid), "worker_rss_mib": rss_mib(worker.pid)}
        ]
        print(json.dumps(taken[-1]), flush=True)
        try:
            step = events // 4
            for n in range(4):
                flood(port, 2_000_000 + n * step, step, make=lambda i: event(i, small))
                wait_until(lambda n=n: terminal(url) >= (n + 1) * step, 1800, interval=1)
                taken.append(
                    {
                        "events": (n + 1) * step,
                        "web_rss_mib": rss_mib(web.pid),
                        "worker_rss_mib": rss_mib(worker.pid),
                    }
                )
                print(json.dumps(taken[-1]), flush=True)
        finally:
            web.stop()
            worker.stop()
            redis.Redis().delete(queue)
        return taken


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["throughput", "latency", "memory"])
    parser.add_argument("--events", type=int, default=0)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--batch", default="1,8,64", help="events per message (throughput)")
    parser.add_argument("--concurrency", default="1,2", help="worker processes (throughput)")
    bench_events.add_flag(parser)
    results.add_flag(parser)
    args = parser.parse_args()
    run = results.start(f"pipeline-{args.what}", args, module="pipeline")
    rows: list[dict[str, Any]]
    if args.what == "throughput":
        rows = throughput(
            args.events or 6000,
            [int(b) for b in args.batch.split(",")],
            [int(c) for c in args.concurrency.split(",")],
            args.small_events,
        )
    elif args.what == "latency":
        rows = [latency(args.rate, args.seconds, args.small_events)]
    else:
        rows = memory(args.events or 100_000, args.small_events)
    results.write(run, rows)


if __name__ == "__main__":
    sys.exit(main())
