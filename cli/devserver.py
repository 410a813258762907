"""`seatflow dev`: web, worker and beat as child processes, on the embedded defaults.

With `--demo` it also creates a demo organization and sends it a signed sample event, then
reports when that event is applied.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters import migrations
from cli import samples
from config.celery import prepare_broker
from config.inbox import PENDING_STATES
from config.settings import Settings
from domain.cycles import cycle_end
from services import admin, bootstrap

DEMO_CUSTOMER = "cus_demo"
EXAMPLE_CATALOG = Path(__file__).resolve().parents[1] / "examples" / "catalog.json"


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "workers.app", *args, "--loglevel", "INFO"]


def worker_command(concurrency: int, *options: str) -> list[str]:
    """`celery worker` for seatflow's tasks, as `seatflow dev` (and the tests) start it."""
    return _celery(
        "worker",
        "--concurrency",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
        *options,
    )


def beat_command(schedule: str) -> list[str]:
    """`celery beat` for seatflow's schedule, keeping its state in the file `schedule`."""
    return _celery("beat", "--schedule", schedule)


def process_commands(settings: Settings, port: int) -> dict[str, list[str]]:
    python = sys.executable
    schedule = str(settings.data_dir / "celerybeat-schedule")
    return {
        "web": [
            python,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--workers",
            "1",
            "webhooks:create_app()",
        ],
        "worker": worker_command(concurrency=2),
        "beat": beat_command(schedule),
    }


def send_sample(settings: Settings, url: str, customer: str) -> tuple[int, str]:
    start = datetime.now(UTC).replace(microsecond=0)
    obj = samples.subscription_object(
        customer=customer,
        unit_amount=10000,
        period_start=int(start.timestamp()),
        period_end=int(cycle_end(start, "month").timestamp()),
    )
    body, headers = samples.signed(
        samples.event("customer.subscription.created", obj), settings.stripe_webhook_secrets[0]
    )
    return samples.post(url, body, headers)


def _wait_for(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def _demo(settings: Settings, port: int) -> None:
    uow = bootstrap.unit_of_work()
    with uow:
        org = uow.organizations.get_by_customer(DEMO_CUSTOMER)
    if org is None:
        created = admin.create_organization(uow, "Demo Org", customer=DEMO_CUSTOMER)
        owner = admin.add_member(uow, created["id"], "owner@demo.example", "owner")
        token = admin.create_token(uow, owner["id"])["token"]
        if not admin.list_catalog(uow):
            admin.import_catalog(uow, json.loads(EXAMPLE_CATALOG.read_text()))
        print(
            f"demo: organization {created['id']}, owner token {token} "
            f"(sign in at http://127.0.0.1:{port + 1}/signin)",
            flush=True,
        )
    if not _wait_for(f"http://127.0.0.1:{port}/healthz", 30):
        print("demo: the web process did not come up", file=sys.stderr)
        return
    status, body = send_sample(settings, f"http://127.0.0.1:{port}/webhooks/stripe", DEMO_CUSTOMER)
    print(f"demo: POST /webhooks/stripe -> HTTP {status} {body.strip()}", flush=True)
    event_id = _newest_event_id()
    deadline = time.monotonic() + 60
    state = "unknown"
    while time.monotonic() < deadline:
        state = _state(event_id)
        if state not in PENDING_STATES:
            break
        time.sleep(0.3)
    print(f"demo: event {event_id} is {state}", flush=True)


def _newest_event_id() -> str:
    with bootstrap.unit_of_work() as uow:
        return str(uow.inbox.newest_event_id())


def _state(event_id: str) -> str:
    with bootstrap.unit_of_work() as uow:
        return str(uow.inbox.state_of(event_id))


def _env_for(name: str, settings: Settings) -> dict[str, Any]:
    """Each process group gets its own fresh folder of multiprocess metrics."""
    env: dict[str, Any] = dict(os.environ)
    folder = settings.data_dir / "metrics" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return env


def _die_with_parent() -> None:
    """Linux: a child gets SIGTERM when `seatflow dev` goes away, however it goes."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def run(settings: Settings, port: int = 8000, demo: bool = False) -> int:
    settings.ensure_data_dir()
    migrations.upgrade()
    prepare_broker(bootstrap.celery())
    children = {
        name: subprocess.Popen(cmd, env=_env_for(name, settings), preexec_fn=_die_with_parent)
        for name, cmd in process_commands(settings, port).items()
    }
    print(
        f"seatflow dev: webhooks on http://127.0.0.1:{port}/webhooks/stripe, pages and org API "
        f"on http://127.0.0.1:{port + 1}/, worker and beat started "
        f"(database {settings.database_url.split('@')[-1]})",
        flush=True,
    )
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if demo:
            _demo(settings, port)
        while not stopping and all(child.poll() is None for child in children.values()):
            time.sleep(0.5)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    failed = [name for name, child in children.items() if child.returncode not in (0, -15, None)]
    return 1 if failed and not stopping else 0
