"""Benchmark: the webhook receiver against a bare Flask app, same gunicorn, same run.

    python -m bench.receiver [--duration 15] [--connections 32]

Targets: seatflow with the production settings (SEATFLOW_ENV=production: PostgreSQL inbox,
Redis broker, JSON logs), the same on the embedded default (SQLite, SQLite broker), a bare
Flask "return 200" app, seatflow with its storage taken out (its request path alone), and a
peer that upserts each event inside its request (`@supabase/stripe-sync-engine` on Node,
bench/peer.py). Each gets signed full-size Stripe events (bench/events.py, every one
distinct; `--small-events` for the small samples) from wrk at full speed, then at a constant
70 % of the maximum it reached (an open loop), to read p99 latency there. Load stays on
loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from adapters import migrations
from bench import events as bench_events
from bench import peer
from bench import results as recorded
from cli import samples
from tests.support import free_port, http_ok, wait_until

HERE = Path(__file__).parent
SECRET = "whsec_bench_secret_for_signing_deliveries"
ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
GUNICORN = [
    "--worker-class",
    "gthread",
    "--workers",
    "2",
    "--threads",
    "8",
    "--log-level",
    "warning",
    # What the Procfile's processes read: timeouts, and each worker kept to its own CPU
    # (WEB_PIN_CPUS=false in the environment measures them unpinned).
    "--config",
    str(HERE.parent / "deploy" / "gunicorn.conf.py"),
]


def make_events(path: Path, count: int, small: bool = False) -> int:
    """`count` signed subscription updates (full-size unless `small`), one
    `signature<TAB>body` per line; returns the size of a body."""
    size = 0
    now = int(time.time())
    with path.open("w") as out:
        for i in range(count):
            event = bench_events.subscription_updated(i % 50 + 1, i % 90 + 1, now, small=small)
            body, headers = samples.signed(event, SECRET)
            size = len(body)
            out.write(f"{headers['Stripe-Signature']}\t{body.decode()}\n")
    return size


def wrk(
    port: int, events: Path, seconds: int, connections: int, rate: float = 0, once: bool = False
) -> dict:
    """Run wrk (2 threads); `rate` 0 is as fast as it goes, else an open loop at `rate`/s;
    `once`: each event of `events` is sent once at most (it stops when they run out)."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(HERE / "wrk_events.lua"),
            f"http://127.0.0.1:{port}",
            "--",
            str(events),
            str(rate / 2),
            *(["once"] if once else []),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[7:])


def serve(app: str, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """gunicorn on a free loopback port; its logs go to `log`, as they would to a collector."""
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *GUNICORN, "--bind", f"127.0.0.1:{port}", app],
            env=env,
            stdout=out,
            stderr=out,
        )
    wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), 30)
    return proc, port


def measure(
    name: str,
    app: str,
    env: dict[str, str],
    work: Path,
    seconds: int,
    connections: int,
    queued: Callable[[], int] | None = None,
    small: bool = False,
) -> dict:
    """Maximum, then 70 % of it; with `queued` (task messages waiting in the broker), also
    how many events each task message carried in each phase. `app` "peer" is the peer's
    Node server (bench/peer.py), else a gunicorn app."""
    start: Callable[[dict[str, str], Path], tuple[subprocess.Popen[bytes], int]]
    if app == peer.APP:
        start = peer.serve
    else:

        def start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
            return serve(app, env, log)

    return _measure(name, start, env, work, seconds, connections, queued, small)


def _measure(
    name: str,
    start: Callable[[dict[str, str], Path], tuple[subprocess.Popen[bytes], int]],
    env: dict[str, str],
    work: Path,
    seconds: int,
    connections: int,
    queued: Callable[[], int] | None,
    small: bool,
) -> dict:
    # Fresh events for every run: a re-sent event is a cheaper duplicate.
    files = {}
    for run, count in (("warm", 5_000), ("peak", 40_000), ("at70", 40_000)):
        files[run] = work / f"{run}.txt"
        make_events(files[run], count, small)
    proc, port = start(env, work / "server.log")
    try:
        wrk(port, files["warm"], 3, connections)  # pools, imports, first connections
        before = queued() if queued else 0
        cpu_before = cpu_seconds(proc.pid)
        peak = wrk(port, files["peak"], seconds, connections)
        cpu_after = cpu_seconds(proc.pid)
        between = queued() if queued else 0
        # 70 % of the maximum, as a constant arrival rate (requests start on a schedule, not
        # when the previous one is answered, so a slow answer cannot slow the load down).
        at70 = wrk(port, files["at70"], seconds, connections, 0.7 * peak["rps"])
        after = queued() if queued else 0
    finally:
        proc.terminate()  # the peer's primary stops its workers
        proc.wait(30)
    return {
        "target": name,
        "max_rps": peak["rps"],
        "max_p99_ms": peak["p99_ms"],
        "non_2xx": peak["non_2xx"] + at70["non_2xx"],
        "at70_rps": at70["rps"],
        "at70_p50_ms": at70["p50_ms"],
        "at70_p99_ms": at70["p99_ms"],
        "at70_late": at70["late"],
        "cpu_us_per_request": {
            k: round((cpu_after[k] - cpu_before[k]) / peak["requests"] * 1e6) for k in cpu_after
        },
        "events_per_message": (
            (
                round(peak["requests"] / max(1, between - before), 1),
                round(at70["requests"] / max(1, after - between), 1),
            )
            if queued
            else None
        ),
    }


def cpu_seconds(server: int) -> dict[str, float]:
    """CPU time (user + system) used so far by the server's process group, by PostgreSQL's
    processes and by Redis, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"server": 0.0, "postgres": 0.0, "redis": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(pid) == server or int(fields[1]) == server:  # gunicorn master, its workers
            used["server"] += seconds
        elif name == "postgres" or name.startswith("redis-server"):
            used["postgres" if name == "postgres" else "redis"] += seconds
    return used


def _redis_queue_length(queue: str) -> Callable[[], int]:
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    return lambda: int(client.llen(queue))


def _signing_key() -> str:
    from adapters.license_signer import new_private_key_b64

    return new_private_key_b64()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (all targets)")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument(
        "--targets",
        default="bare,nostore,postgres,sqlite,peer",
        help="which of bare, nostore, postgres, sqlite, peer (stripe-sync-engine on Node)",
    )
    bench_events.add_flag(parser)
    recorded.add_flag(parser)
    args = parser.parse_args()
    run = recorded.start("receiver", args)
    GUNICORN[3], GUNICORN[5] = str(args.workers), str(args.threads)
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="seatflow-bench-"))
    size = make_events(work / "sample.txt", 1, args.small_events)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY"))}
    base_env |= {
        "STRIPE_WEBHOOK_SECRETS": SECRET,
        "SEATFLOW_ENV": "development",
        "SEATFLOW_QUEUE": f"bench-{secrets.token_hex(3)}",
    }

    name = f"seatflow_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    pg = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    results = []
    try:
        migrations.upgrade(pg)
        prod = base_env | {
            "SEATFLOW_ENV": "production",
            "STRIPE_API_KEY": "sk_test_" + secrets.token_urlsafe(24),
            "SEATFLOW_ALLOW_TEST_KEYS": "true",
            "SEATFLOW_SECRET_KEY": secrets.token_hex(32),
            "SEATFLOW_PUBLIC_URL": "https://billing.example.com",
            "LICENSE_SIGNING_KEY": _signing_key(),
            "DATABASE_URL": pg,
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
            "SEATFLOW_DATA_DIR": str(work / "prod"),
        }
        embedded = base_env | {"SEATFLOW_DATA_DIR": str(work / "embedded")}
        # The peer keeps its own schema (`stripe`) in the same throwaway database.
        peer_env = peer.env_for(pg.replace("+psycopg", ""), SECRET, args.workers)
        (work / "embedded").mkdir()
        migrations.upgrade(f"sqlite:///{work / 'embedded' / 'seatflow.sqlite'}")
        for key, label, app, env in (
            ("bare", "bare Flask (baseline)", "bench.bare_app:create_app()", base_env),
            ("nostore", "seatflow, storage taken out", "bench.nostore_app:create_app()", prod),
            ("postgres", "seatflow, PostgreSQL + Redis", "webhooks:create_app()", prod),
            ("sqlite", "seatflow, embedded SQLite", "webhooks:create_app()", embedded),
            ("peer", "stripe-sync-engine, upsert in the request", peer.APP, peer_env),
        ):
            if key not in args.targets.split(","):
                continue
            queued = _redis_queue_length(base_env["SEATFLOW_QUEUE"]) if key == "postgres" else None
            results.append(
                measure(
                    label,
                    app,
                    env,
                    work,
                    args.duration,
                    args.connections,
                    queued,
                    args.small_events,
                )
            )
            time.sleep(1)
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/0").delete(base_env["SEATFLOW_QUEUE"])
        shutil.rmtree(work, ignore_errors=True)
    bare = results[0]["max_rps"] if results[0]["target"].startswith("bare") else None
    print(
        f"\nreceiver benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, body {size} bytes, "
        f"wrk -t2 -c{args.connections} -d{args.duration}s, gunicorn {' '.join(GUNICORN[:6])}"
    )
    print(
        "| target | max events/s | × bare | p99 at max | at 70 %: events/s | p50 | p99 "
        "| late starts | non-2xx |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        ratio = f"{r['max_rps'] / bare:.2f}" if bare else "-"
        print(
            f"| {r['target']} | {r['max_rps']:,.0f} | {ratio} | "
            f"{r['max_p99_ms']:.1f} ms | {r['at70_rps']:,.0f} | {r['at70_p50_ms']:.1f} ms | "
            f"{r['at70_p99_ms']:.1f} ms | {r['at70_late']} | {r['non_2xx']} |"
        )
    print("\nCPU per request at the maximum (µs): server (gunicorn) / PostgreSQL / Redis")
    for r in results:
        cpu = r["cpu_us_per_request"]
        print(f"{r['target']}: {cpu['server']} / {cpu['postgres']} / {cpu['redis']}")
    for r in results:
        if r["events_per_message"]:
            peak, at70 = r["events_per_message"]
            print(f"{r['target']}: events per task message {peak} at max, {at70} at 70 %")
    recorded.write(run, results)


if __name__ == "__main__":
    main()
