"""The whole pipeline in a burst: distinct signed events posted over HTTP as fast as the
receiver takes them, with the worker applying them at the same time, on PostgreSQL and Redis.

    python -m bench.burst [--events 4000 --orgs 200 --clients 8]

Processes have the Procfile's shapes and settings: gunicorn gthread 2 workers x 8 threads with
deploy/gunicorn.conf.py for the receiver,
`celery worker` with its default concurrency (2). Every event is a full-size
`customer.subscription.updated` (bench/events.py; `--small-events` for the small samples)
that really changes the seats of one of `--orgs` organizations. Reported, from one run:

- ingest: events stored per second (first request to last HTTP 200);
- applied end to end: events applied per second (first request to last `applied`);
- drain: events applied per second after the load stopped (its backlog);
- ack -> applied p50/p99 (the inbox's `received_at` to `applied_at`);
- CPU per applied event by process group (gunicorn, worker, PostgreSQL, Redis), from /proc;
- RSS of the receiver and the worker before and after.

Each run uses a throwaway database and its own queue; load stays on loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
import redis

from bench import events as bench_events
from bench import results
from bench.pipeline import env_for, flood, rss_mib, terminal
from tests.support import PYTHON, Process, free_port, http_ok, start_worker, wait_until

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def _database(orgs: int) -> str:
    from adapters import migrations

    name = f"seatflow_burst_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    migrations.upgrade(url)
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO organizations (id, name, stripe_customer_id) SELECT "
            "'org_' || g, 'Org ' || g, 'cus_' || g FROM generate_series(1, %s) g",
            (orgs,),
        )
    return url


def _drop(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cpu_by_group(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) so far of each process group (a pid and its children),
    and of PostgreSQL's and Redis's processes."""
    tick = os.sysconf("SC_CLK_TCK")
    used = dict.fromkeys([*groups, "postgres", "redis"], 0.0)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        owner = next((g for g, root in groups.items() if root in (int(pid), int(fields[1]))), None)
        if owner:
            used[owner] += seconds
        elif name == "postgres" or name.startswith("redis-server"):
            used["postgres" if name == "postgres" else "redis"] += seconds
    return used


GUNICORN = [
    "-m",
    "gunicorn",
    *("--config", str(Path(__file__).parents[1] / "deploy" / "gunicorn.conf.py")),
    *("--worker-class", "gthread", "--workers", "2", "--threads", "8"),
]


def _web(env: dict[str, str], port: int) -> Process:
    args = [PYTHON, *GUNICORN, "--bind", f"127.0.0.1:{port}", "webhooks:create_app()"]
    web = Process("web", args, env)
    wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), 30)
    return web


def _latency(url: str) -> tuple[float, float]:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY "
            "extract(epoch FROM applied_at - received_at) * 1000) FROM inbox"
        ).fetchone()
    assert row is not None
    p50, p99 = (float(x) for x in row[0])
    return p50, p99


def burst(events: int, orgs: int, clients: int, small: bool = False) -> dict[str, Any]:
    url = _database(orgs)
    queue = f"burst-{secrets.token_hex(3)}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = env_for(url, queue, Path(tmp))
            port = free_port()
            web, worker = _web(env, port), start_worker(env, concurrency=2)
            try:
                rss_before = {"web": rss_mib(web.pid), "worker": rss_mib(worker.pid)}
                groups = {"gunicorn": web.pid, "worker": worker.pid}
                cpu_before = cpu_by_group(groups)
                start = time.perf_counter()
                flood(port, 0, events, clients, lambda i: bench_events.nth(i, orgs, small))
                acked = time.perf_counter()
                applied_then = terminal(url)
                wait_until(lambda: terminal(url) >= events, 1800, interval=0.05)
                done = time.perf_counter()
                cpu = {k: v - cpu_before[k] for k, v in cpu_by_group(groups).items()}
                rss_after = {"web": rss_mib(web.pid), "worker": rss_mib(worker.pid)}
            finally:
                web.stop()
                worker.stop()
                redis.Redis().delete(queue)
        p50, p99 = _latency(url)
    finally:
        _drop(url)
    backlog = events - applied_then
    result = {
        "events": events,
        "orgs": orgs,
        "ingest_per_s": round(events / (acked - start)),
        "applied_end_to_end_per_s": round(events / (done - start)),
        "ratio": round((acked - start) / (done - start), 2),
        "drain_per_s": round(backlog / (done - acked)) if done > acked and backlog else None,
        "backlog_at_end_of_load": backlog,
        "ack_to_applied_ms": {"p50": round(p50, 1), "p99": round(p99, 1)},
        "cpu_us_per_event": {k: round(v / events * 1e6) for k, v in cpu.items()},
        "rss_mib": {"before": rss_before, "after": rss_after},
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--orgs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--runs", type=int, default=1)
    bench_events.add_flag(parser)
    results.add_flag(parser)
    args = parser.parse_args()
    run = results.start("burst", args)
    rows = [
        burst(args.events, args.orgs, args.clients, args.small_events) for _ in range(args.runs)
    ]
    results.write(run, rows)


if __name__ == "__main__":
    sys.exit(main())
