"""The whole pipeline, as deployed, on full-size Stripe events: the receiver alone, then the
receiver with the worker applying what it stores, then the pipeline at 70 % of what it
applied, all in one run on PostgreSQL and Redis, in production mode.

    python -m bench.burst [--duration 10 --connections 16 --orgs 200 --runs 3]

Processes have the Procfile's shapes and settings: gunicorn gthread 2 workers x 8 threads
with deploy/gunicorn.conf.py for the receiver, `celery worker` with its default concurrency
(2). Every event is a distinct, signed, full-size `customer.subscription.updated`
(bench/events.py; `--small-events` for the small samples) that really changes the seats of
one of `--orgs` organizations, posted by wrk with `--connections` connections. Each phase
has its own throwaway database and queue; load stays on loopback. Reported, from one run:

- receiver alone: events stored per second with no worker running (`--duration` s of wrk);
- ingest: events stored per second while the worker runs (the clock starts once the worker
  said ready and the receiver answered a warm-up);
- applied end to end: events applied per second (first request to last `applied`);
- drain: events applied per second after the load stopped (its backlog), and the backlog;
- CPU per event by process group, from /proc: the receiver's (gunicorn) per event stored,
  the worker's per event applied, PostgreSQL's and Redis's per event; `worker_to_receiver`
  is the worker's over the receiver's, `applied_to_alone` applied end to end over the
  receiver alone;
- ack -> applied p50/p99 (the inbox's `received_at` to `applied_at`) during the full-speed
  phase, and at a constant 70 % of the applied end-to-end rate (`at70`, an open loop);
- RSS of the receiver and the worker before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import redis

from bench import events as bench_events
from bench import results
from bench.pipeline import SECRET, env_for, rss_mib, terminal
from cli import samples
from tests.support import PYTHON, Process, free_port, http_ok, start_worker, wait_until

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
HERE = Path(__file__).parent


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
    """CPU seconds (user + system) so far of each process group (a pid and its children;
    `<group>_main`: its main process alone), and of PostgreSQL's and Redis's processes."""
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
            if int(pid) == groups[owner]:  # the group's main process alone
                used[f"{owner}_main"] = used.get(f"{owner}_main", 0.0) + seconds
        elif name == "postgres" or name.startswith("redis-server"):
            used["postgres" if name == "postgres" else "redis"] += seconds
    return used


GUNICORN = [
    "-m",
    "gunicorn",
    *("--config", str(HERE.parent / "deploy" / "gunicorn.conf.py")),
    *("--worker-class", "gthread", "--workers", "2", "--threads", "8"),
]


def _web(env: dict[str, str], port: int) -> Process:
    args = [PYTHON, *GUNICORN, "--bind", f"127.0.0.1:{port}", "webhooks:create_app()"]
    web = Process("web", args, env)
    wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), 30)
    return web


def write_events(path: Path, first: int, count: int, orgs: int, small: bool = False) -> Path:
    """Events `first` .. `first + count - 1` of a run (bench.events.nth: each one a real seat
    change), signed, one `signature<TAB>body` a line, as bench/wrk_events.lua reads them."""
    with path.open("w") as out:
        for i in range(first, first + count):
            body, headers = samples.signed(bench_events.nth(i, orgs, small), SECRET)
            out.write(f"{headers['Stripe-Signature']}\t{body.decode()}\n")
    return path


def wrk(port: int, events: Path, seconds: float, connections: int, rate: float = 0) -> dict:
    """wrk (2 threads), each event of `events` at most once; `rate` 0: as fast as it goes."""
    from bench.receiver import wrk as run_wrk

    return run_wrk(port, events, int(seconds), connections, rate, once=True)


def stored(url: str) -> int:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        row = conn.execute("SELECT count(*) FROM inbox").fetchone()
    return int(row[0]) if row else 0


def _latency(url: str, since_id: int = 0) -> tuple[float, float]:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY "
            "extract(epoch FROM applied_at - received_at) * 1000) FROM inbox WHERE id > %s",
            (since_id,),
        ).fetchone()
    assert row is not None
    p50, p99 = (float(x) for x in row[0])
    return p50, p99


def _last_id(url: str) -> int:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM inbox").fetchone()
    return int(row[0]) if row else 0


class Phase:
    """A throwaway database and queue, the receiver on it, and maybe the worker."""

    def __init__(self, orgs: int, work: Path, with_worker: bool) -> None:
        self.url, self.queue = _database(orgs), f"burst-{secrets.token_hex(3)}"
        data = work / self.queue
        data.mkdir()
        self.env = env_for(self.url, self.queue, data)
        self.worker = start_worker(self.env, concurrency=2) if with_worker else None
        self.port = free_port()
        self.web = _web(self.env, self.port)

    def groups(self) -> dict[str, int]:
        return {"gunicorn": self.web.pid} | ({"worker": self.worker.pid} if self.worker else {})

    def close(self) -> None:
        try:
            self.web.stop()
            if self.worker:
                self.worker.stop()
            redis.Redis().delete(self.queue)
        finally:
            _drop(self.url)


def receiver_alone(
    orgs: int, work: Path, seconds: float, connections: int, small: bool
) -> dict[str, Any]:
    """Events stored per second by the receiver with no worker running."""
    warm = write_events(work / "alone-warm.txt", 0, 2000, orgs, small)
    load = write_events(work / "alone.txt", 2000, int(4000 * seconds), orgs, small)
    phase = Phase(orgs, work, with_worker=False)
    try:
        wrk(phase.port, warm, 2, connections)
        before, cpu_before = stored(phase.url), cpu_by_group(phase.groups())
        start = time.perf_counter()
        out = wrk(phase.port, load, seconds, connections)
        elapsed = time.perf_counter() - start
        count = stored(phase.url) - before
        cpu = {k: v - cpu_before[k] for k, v in cpu_by_group(phase.groups()).items()}
    finally:
        phase.close()
    return {
        "stored_per_s": round(count / elapsed),
        "cpu_us_per_event": {k: round(v / count * 1e6) for k, v in cpu.items()},
        "non_2xx": out["non_2xx"],
    }


def pipeline(
    orgs: int, work: Path, seconds: float, connections: int, small: bool, alone: float
) -> dict[str, Any]:
    """The receiver with the worker: ingest, applied end to end, drain, then 70 %."""
    warm = write_events(work / "warm.txt", 0, 1000, orgs, small)
    first = 1000
    load = write_events(work / "load.txt", first, int(4000 * seconds), orgs, small)
    phase = Phase(orgs, work, with_worker=True)
    try:
        wrk(phase.port, warm, 2, connections)
        wait_until(lambda: terminal(phase.url) >= stored(phase.url), 120, interval=0.05)
        groups = phase.groups()
        rss_before = {k: rss_mib(pid) for k, pid in groups.items()}
        base, cpu_before, since = stored(phase.url), cpu_by_group(groups), _last_id(phase.url)
        start = time.perf_counter()
        out = wrk(phase.port, load, seconds, connections)
        acked = time.perf_counter()
        events, applied_then = stored(phase.url) - base, terminal(phase.url) - base
        cpu_ingest = cpu_by_group(groups)
        wait_until(lambda: terminal(phase.url) - base >= events, 1800, interval=0.02)
        done = time.perf_counter()
        cpu_after = cpu_by_group(groups)
        rss_after = {k: rss_mib(pid) for k, pid in groups.items()}
        p50, p99 = _latency(phase.url, since)
        applied_rate = events / (done - start)
        at70 = _at70(phase, work, first + len(load.read_text().splitlines()), orgs, small)
        at70_out = at70(0.7 * applied_rate, seconds, connections)
    finally:
        phase.close()
    receiver = cpu_ingest["gunicorn"] - cpu_before["gunicorn"]
    worker = cpu_after["worker"] - cpu_before["worker"]
    cpu = {k: cpu_after[k] - cpu_before[k] for k in cpu_after} | {
        "gunicorn": receiver,
        "worker": worker,
    }
    backlog = events - applied_then
    result = {
        "events": events,
        "receiver_alone_per_s": round(alone),
        "ingest_per_s": round(events / (acked - start)),
        "applied_end_to_end_per_s": round(applied_rate),
        "applied_to_alone": round(applied_rate / alone, 2),
        "drain_per_s": round(backlog / (done - acked)) if done > acked and backlog else None,
        "backlog_at_end_of_load": backlog,
        "cpu_us_per_event": {k: round(v / events * 1e6) for k, v in cpu.items()},
        "worker_to_receiver": round(worker / receiver, 2) if receiver else None,
        "ack_to_applied_ms": {"p50": round(p50, 1), "p99": round(p99, 1)},
        "at70": at70_out,
        "rss_mib": {"before": rss_before, "after": rss_after},
        "non_2xx": out["non_2xx"],
    }
    return result


def _at70(
    phase: Phase, work: Path, first: int, orgs: int, small: bool
) -> Callable[[float, float, int], dict[str, Any]]:
    def run(rate: float, seconds: float, connections: int) -> dict[str, Any]:
        count = int(rate * seconds * 1.05) + 10
        load = write_events(work / "at70.txt", first, count, orgs, small)
        since, base = _last_id(phase.url), stored(phase.url)
        out = wrk(phase.port, load, seconds, connections, rate)
        sent = stored(phase.url) - base
        wait_until(lambda: terminal(phase.url) - base >= sent, 600, interval=0.05)
        p50, p99 = _latency(phase.url, since)
        return {
            "rate": round(rate),
            "events": sent,
            "ack_to_applied_ms": {"p50": round(p50, 1), "p99": round(p99, 1)},
            "late": out["late"],
        }

    return run


def burst(orgs: int, seconds: float, connections: int, small: bool = False) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="seatflow-burst-"))
    try:
        alone = receiver_alone(orgs, work, seconds, connections, small)
        result = pipeline(orgs, work, seconds, connections, small, alone["stored_per_s"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["receiver_alone"] = alone
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds of load a phase")
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections")
    parser.add_argument("--orgs", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1)
    bench_events.add_flag(parser)
    results.add_flag(parser)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    run = results.start("burst", args)
    rows = [
        burst(args.orgs, args.duration, args.connections, args.small_events)
        for _ in range(args.runs)
    ]
    results.write(run, rows)


if __name__ == "__main__":
    sys.exit(main())
