"""Benchmark: reconciliation of N Stripe subscriptions (pages of 100) against PostgreSQL.

    python -m bench.reconcile --count 100000

Creates a throwaway database on the local PostgreSQL, fills it with N organizations and
subscriptions, serves N subscriptions from a fake Stripe API (1 % of them drifted), runs the
Stripe-state job in a child process and reports its wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime

import psycopg

from bench import results

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def populate(url: str, count: int) -> None:
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO organizations (id, name, stripe_customer_id) "
            "SELECT 'org_' || g, 'Org ' || g, 'cus_' || g FROM generate_series(1, %s) g",
            (count,),
        )
        conn.execute(
            "INSERT INTO subscriptions (organization_id, license_type, seats, interval, status, "
            "current_period_start, current_period_end, stripe_subscription_id, stripe_item_id, "
            "stripe_price_id, stripe_version) SELECT 'org_' || g, 'node_locked', mod(g, 7) + 1, "
            "'month', 'active', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z', 'sub_' || g, "
            "'si_' || g, 'price_node_locked_month', 0 FROM generate_series(1, %s) g",
            (count,),
        )


def run_job(url: str, api_base: str) -> dict:
    """In this (child) process: the reconciliation job, timed, with peak RSS."""
    from adapters.unit_of_work import SqlUnitOfWork
    from bootstrap import Runtime
    from config.settings import Settings
    from services import reconciliation as reconcile

    settings = Settings(
        mode="test",
        database_url=url,
        stripe_api_base=api_base,
        stripe_api_key="sk_test_bench",
        stripe_read_rate=10_000,
        license_signing_key=_key(),
    )
    runtime = Runtime(settings)  # no broker: what the job would send is only logged
    deps, uow = runtime.deps, SqlUnitOfWork(runtime.engine)
    started = time.perf_counter()
    summary = reconcile.run_all(uow, deps, jobs=["stripe_state"])
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": round(elapsed, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "checked": summary.checked.get("stripe_state", 0),
        "drift": summary.drift.get("stripe_state", 0),
        "repaired": summary.repaired.get("stripe_state", 0),
    }


def _key() -> str:
    from adapters.license_signer import new_private_key_b64

    return new_private_key_b64()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--child", nargs=2, metavar=("URL", "API"), help=argparse.SUPPRESS)
    results.add_flag(parser)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_job(*args.child)))
        return
    run = results.start("reconcile", args, events={})
    from adapters import migrations
    from tests.support import free_port

    name = f"seatflow_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.fake_stripe_pages",
            "--count",
            str(args.count),
            "--port",
            str(port),
        ]
    )
    try:
        migrations.upgrade(url)
        populate(url, args.count)
        time.sleep(0.5)
        out = subprocess.run(
            [sys.executable, "-m", "bench.reconcile", "--child", url, f"http://127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result |= {"subscriptions": args.count, "date": datetime.now(UTC).strftime("%Y-%m-%d")}
        print(json.dumps(result))
        results.write(run, [result])
    finally:
        server.kill()
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
