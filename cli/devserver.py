"""`seatflow dev`: receiver, pages and org API, worker and beat as child processes, on the
embedded defaults.

With `--demo` it also creates a demo organization and sends it a signed sample event, then
reports when that event is applied.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import bootstrap
from cli import processes, samples, startup
from config.logging import warn_at_start
from config.settings import Settings
from domain.cycles import cycle_end
from inbox.states import PENDING_STATES
from services import admin, directory

DEMO_CUSTOMER = "cus_demo"


def example_catalog() -> list[dict[str, Any]]:
    """The example catalog shipped in the package (cli/data/catalog.json)."""
    text = resources.files("cli").joinpath("data", "catalog.json").read_text()
    entries: list[dict[str, Any]] = json.loads(text)
    return entries


# The quickest clean exit of each: gunicorn's quick shutdown, Celery's cold shutdown (a task
# it was running is acknowledged late, so the broker hands it out again).
QUICK_STOP = {"web": signal.SIGINT, "api": signal.SIGINT, "worker": signal.SIGQUIT}


def say(text: str) -> None:
    """One line in one write: the children share this output, and a line written in two
    pieces (as `print` does when unbuffered) can have a child's log line between them."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


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


def _gunicorn(app: str, bind: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        bind,
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--workers",
        "1",
        "--no-control-socket",  # one per user by default, shared by every gunicorn of the user
        app,
    ]


class PortInUse(Exception):
    def __init__(self, name: str, port: int, option: str) -> None:
        super().__init__(
            f"seatflow dev: port {port} is in use ({name}); stop what holds it, "
            f"or choose another with {option}"
        )


# gunicorn's default backlog: the socket is listening before gunicorn takes it over.
BACKLOG = 2048


def claim_port(name: str, port: int, option: str) -> socket.socket:
    """A listening socket on 127.0.0.1:`port`, bound here and handed to gunicorn (`fd://`):
    a taken port stops `seatflow dev` before anything starts, and what answers on the port
    afterwards can only be its own child, never another instance."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise PortInUse(name, port, option) from exc
    return sock


def claim_ports(port: int, api_port: int) -> dict[str, socket.socket]:
    claimed: dict[str, socket.socket] = {}
    try:
        for name, at, option in (("web", port, "--port"), ("api", api_port, "--api-port")):
            claimed[name] = claim_port(name, at, option)
    except PortInUse:
        for sock in claimed.values():
            sock.close()
        raise
    return claimed


def process_commands(settings: Settings, sockets: dict[str, socket.socket]) -> dict[str, list[str]]:
    schedule = str(settings.data_dir / "celerybeat-schedule")
    return {
        "web": _gunicorn("webhooks:create_app()", f"fd://{sockets['web'].fileno()}"),
        "api": _gunicorn("api:create_app()", f"fd://{sockets['api'].fileno()}"),
        "worker": worker_command(concurrency=2),
        "beat": beat_command(schedule),
    }


def send_sample(
    settings: Settings,
    url: str,
    customer: str,
    event_type: str = "customer.subscription.created",
) -> tuple[int, str]:
    """Post a signed sample event of `event_type` (one of samples.OBJECTS) to `url`."""
    start = datetime.now(UTC).replace(microsecond=0)
    end = cycle_end(start, "month")
    made = samples.sample_event(event_type, customer, int(start.timestamp()), int(end.timestamp()))
    body, headers = samples.signed(made, settings.stripe_webhook_secrets[0])
    return samples.post(url, body, headers)


def _wait_for(url: str, seconds: float, alive: Callable[[], bool] = lambda: True) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and alive():
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def _demo_org() -> startup.Demo:
    """First run: a demo organization, its owner and a token. Later runs reuse them (the token
    is stored hashed, so they say how to make a new one)."""
    uow = bootstrap.runtime().unit_of_work()
    with uow:
        org = uow.organizations.get_by_customer(DEMO_CUSTOMER)
    if org is None:
        created = admin.create_organization(uow, "Demo Org", customer=DEMO_CUSTOMER)
        owner = admin.add_member(uow, created["id"], "owner@demo.example", "owner")
        token = admin.create_token(uow, owner["id"])["token"]
        if not admin.list_catalog(uow):
            admin.import_catalog(uow, example_catalog())
        say(
            f"demo: organization {created['id']} created with its owner {owner['email']} "
            "and the example catalog (the owner's token is in the box below)"
        )
        return startup.Demo(created["id"], owner["id"], token)
    members = directory.list_members(uow, org.id)
    owner_id = next((m["id"] for m in members if m["role"] == "owner"), "MEMBER_ID")
    say(f"demo: organization {org.id} (from an earlier run)")
    return startup.Demo(org.id, owner_id, None)


def _demo(settings: Settings, port: int) -> startup.Demo:
    demo = _demo_org()
    status, body = send_sample(settings, f"http://127.0.0.1:{port}/webhooks/stripe", DEMO_CUSTOMER)
    say(f"demo: POST /webhooks/stripe -> HTTP {status} {body.strip()}")
    event_id = _newest_event_id()
    deadline = time.monotonic() + 60
    state = "unknown"
    while time.monotonic() < deadline:
        state = _state(event_id)
        if state not in PENDING_STATES:
            break
        time.sleep(0.3)
    say(f"demo: event {event_id} is {state}")
    return demo


def _newest_event_id() -> str:
    with bootstrap.runtime().unit_of_work() as uow:
        return str(uow.inbox.newest_event_id())


def _state(event_id: str) -> str:
    with bootstrap.runtime().unit_of_work() as uow:
        return str(uow.inbox.state_of(event_id))


def _env_for(name: str, settings: Settings) -> dict[str, Any]:
    """Each process group gets its own fresh folder of multiprocess metrics."""
    env: dict[str, Any] = dict(os.environ)
    folder = settings.data_dir / "metrics" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    env["SEATFLOW_DEV_CHILD"] = "true"  # `seatflow dev` gives the development warning once
    return env


def _running(child: subprocess.Popen[bytes]) -> bool:
    return child.poll() is None


def _announce(
    port: int, api_port: int, settings: Settings, children: dict[str, subprocess.Popen[bytes]]
) -> bool:
    """Print the URLs once both web processes answer; if one exits first, say which port."""
    for name, at in (("web", port), ("api", api_port)):
        child = children[name]
        running = functools.partial(_running, child)
        if not _wait_for(f"http://127.0.0.1:{at}/healthz", 60, running):
            why = "exited before it answered" if child.poll() is not None else "did not answer"
            say(f"seatflow dev: {name} on port {at} {why}")
            return False
    say(
        f"seatflow dev: webhooks on http://127.0.0.1:{port}/webhooks/stripe, pages and org API "
        f"on http://127.0.0.1:{api_port}/ (sign in at http://127.0.0.1:{api_port}/signin), "
        f"worker and beat started (database {settings.database_url.split('@')[-1]})"
    )
    warn_at_start(settings)
    return True


def run(settings: Settings, port: int = 8000, demo: bool = False, api_port: int = 0) -> int:
    api_port = api_port or port + 1
    try:
        sockets = claim_ports(port, api_port)
    except PortInUse as exc:
        say(str(exc))
        return 1
    processes.raise_on_stop_signals()
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        settings.ensure_data_dir()
        from adapters import migrations  # Alembic: loaded by the commands that migrate
        from config.celery import prepare_broker  # Celery: by the commands that send

        migrations.upgrade()
        prepare_broker(bootstrap.runtime().celery)
        commands = process_commands(settings, sockets)
        fds = {name: (sock.fileno(),) for name, sock in sockets.items()}
        envs = {n: _env_for(n, settings) for n in commands}
        children = processes.start(commands, envs, fds)
        for sock in sockets.values():  # the children hold the ports now
            sock.close()
        if not _announce(port, api_port, settings, children):
            return 1
        say(startup.block(port, api_port, _demo(settings, port) if demo else None))
        while all(child.poll() is None for child in children.values()):
            time.sleep(0.2)
        failed = [name for name, child in children.items() if child.returncode is not None]
        print(f"seatflow dev: {', '.join(failed)} exited; stopping", file=sys.stderr)
        return 1
    except processes.Stopped:
        return 0
    finally:
        for sock in sockets.values():
            sock.close()
        processes.stop(children, QUICK_STOP)
