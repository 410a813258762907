"""The peer measured beside seatflow: `@supabase/stripe-sync-engine` (npm, the version in
bench/peer/package.json), its webhook handler on PostgreSQL, which verifies each delivery and
upserts the subscription and its items inside the request (bench/peer/server.mjs, two Node
processes on one port as gunicorn runs two workers).

    python -m bench.peer [--events 200]        # installs it, posts full-size events, checks
    python -m bench.receiver --targets postgres,peer   # its throughput beside seatflow's

The engine is installed into bench/peer/node_modules (`npm ci`, from the lock file) on first
use; it needs Node.js and npm. It gets the same signed full-size events as seatflow
(bench/events.py) and its own throwaway database; nothing calls Stripe.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from bench import events as bench_events
from bench import results
from cli import samples
from tests.support import free_port, http_ok, wait_until

HERE = Path(__file__).resolve().parent / "peer"
ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
APP = "peer"  # the target's name in bench.receiver


def install() -> None:
    """bench/peer/node_modules from the lock file, unless it is there already."""
    if (HERE / "node_modules" / "@supabase" / "stripe-sync-engine").is_dir():
        return
    if not shutil.which("node") or not shutil.which("npm"):
        sys.exit("the peer needs Node.js and npm (apt-get install nodejs npm)")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)


@contextmanager
def database() -> Iterator[str]:
    """A throwaway database for the peer's `stripe` schema."""
    name = f"seatflow_peer_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def env_for(url: str, secret: str, workers: int = 2) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_URL": url,
        "STRIPE_WEBHOOK_SECRET": secret,
        "WORKERS": str(workers),
    }


def serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The peer on a free loopback port, once it answers; its output goes to `log`."""
    install()
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            ["node", str(HERE / "server.mjs")],
            env=env | {"PORT": str(port)},
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), 60)
    except AssertionError:
        proc.kill()
        raise AssertionError(f"the peer did not start:\n{log.read_text()[-2000:]}") from None
    return proc, port


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the peer's primary and workers, SIGKILL after 10 s."""
    try:
        os.killpg(proc.pid, 15)
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait(5)
    except ProcessLookupError:
        pass


def stored(url: str) -> dict[str, int]:
    """What the peer wrote: subscriptions and items, and the seats of each item."""
    with psycopg.connect(url) as conn:
        subs = conn.execute("SELECT count(*) FROM stripe.subscriptions").fetchone()
        items = conn.execute(
            "SELECT count(*), coalesce(sum(quantity), 0) FROM stripe.subscription_items"
        ).fetchone()
    assert subs is not None and items is not None
    return {"subscriptions": subs[0], "items": items[0], "seats": int(items[1])}


def check(count: int, orgs: int = 10) -> dict[str, int]:
    """Post `count` full-size events one by one; the peer must answer 200 to each and hold
    each organization's last seats."""
    import urllib.request

    secret = "whsec_bench_peer"
    with database() as url:
        log = Path(f"/tmp/seatflow-peer-{secrets.token_hex(3)}.log")
        proc, port = serve(env_for(url, secret, workers=1), log)
        try:
            started = time.perf_counter()
            for i in range(count):
                body, headers = samples.signed(bench_events.nth(i, orgs), secret)
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/webhooks/stripe", body, headers, method="POST"
                )
                with urllib.request.urlopen(request, timeout=10) as response:
                    assert response.status == 200, response.status
            elapsed = time.perf_counter() - started
        finally:
            stop(proc)
        found = stored(url)
    last_seats = sum((count - 1 - k) // orgs + 1 for k in range(orgs) if k < count)
    return {
        "events": count,
        "sequential_per_s": round(count / elapsed),
        **found,
        "expected_seats": last_seats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200)
    results.add_flag(parser)
    args = parser.parse_args()
    run = results.start("peer", args)
    found = check(args.events)
    print(json.dumps(found), flush=True)
    results.write(run, [found])
    if found["seats"] != found["expected_seats"]:
        sys.exit("the peer did not keep the last seats of every subscription")


if __name__ == "__main__":
    main()
