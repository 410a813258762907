"""Benchmark: the receiver's inbox writer alone, without HTTP, on PostgreSQL and Redis.

    python -m bench.writer [--threads 8] [--events 8000]

`--threads` request threads each store full-size Stripe events (bench/events.py;
`--small-events` for the small samples) through one
`InboxWriter`, as gunicorn's threads do in one process; the writer groups them into one
insert and one commit, and the publisher sends task messages as the receiver does. Prints
events/s and the process's CPU per event (parsing the event included), with and without
sending the task messages.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import threading
import time
from typing import Any

import redis
from sqlalchemy import create_engine

from bench import events as bench_events
from bench import results
from bench.pipeline import database
from config.celery import make_celery
from config.settings import Settings
from inbox.events import IncomingEvent
from webhooks.publisher import Publisher
from webhooks.receiver import enqueuer
from webhooks.writer import Delivery, InboxWriter


def bodies(count: int, small: bool = False) -> list[bytes]:
    return [
        bench_events.body(
            bench_events.subscription_updated(1, i % 90 + 1, 1_700_000_000 + i, small=small)
        )
        for i in range(count)
    ]


def run(url: str, threads: int, events: list[bytes], send: bool, wait_ms: int) -> dict[str, Any]:
    queue = f"bench-writer-{secrets.token_hex(3)}"
    settings = Settings.from_env(
        {
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
            "SEATFLOW_QUEUE": queue,
            "SEATFLOW_DATA_DIR": tempfile.mkdtemp(prefix="seatflow-bench-"),
        }
    )
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    interval = settings.webhook_publish_interval_ms / 1000
    publisher = Publisher(enqueuer(make_celery(settings)), interval)
    writer = InboxWriter(
        engine, publisher.send if send else (lambda _ids: None), max_wait=wait_ms / 1000
    )
    sent: list[int] = []

    def store(body: bytes) -> None:
        writer.store(Delivery(IncomingEvent.parse(body), body, 0, "received"))

    def thread(k: int) -> None:
        for body in events[1 + k :: threads]:
            store(body)
        sent.append(1)

    store(events[0])  # the writer, the pool and the broker connection are up
    pool = [threading.Thread(target=thread, args=(k,)) for k in range(threads)]
    started, cpu = time.perf_counter(), time.process_time()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    time.sleep(2 * interval)  # the last message leaves the publisher
    messages = redis.Redis().llen(queue)
    redis.Redis().delete(queue)
    n = len(events) - 1
    return {
        "threads": threads,
        "task_messages": send,
        "events": n,
        "events_per_s": round(n / elapsed),
        "cpu_us_per_event": round(cpu / n * 1e6),
        "events_per_message": round(n / max(1, messages), 1) if send else None,
    }


def line(row: dict[str, Any]) -> str:
    return (
        f"threads {row['threads']}, {'with' if row['task_messages'] else 'without'} task "
        f"messages: {row['events_per_s']:,} events/s, {row['cpu_us_per_event']} µs CPU an event"
        + (f", {row['events_per_message']} events a message" if row["task_messages"] else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--events", type=int, default=8000)
    parser.add_argument("--wait-ms", type=int, default=1)
    bench_events.add_flag(parser)
    results.add_flag(parser)
    args = parser.parse_args()
    recorded = results.start("writer", args)
    rows = []
    with database() as url:
        for send in (False, True):
            rows.append(
                run(url, args.threads, bodies(args.events, args.small_events), send, args.wait_ms)
            )
            print(line(rows[-1]), flush=True)
    results.write(recorded, rows)


if __name__ == "__main__":
    main()
