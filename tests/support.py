"""Helpers for tests that run real processes: free ports, child processes, waiting."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


# The ports tests hand to the processes they start: SEATFLOW_TEST_PORTS ("low-high"), by
# default a range below the kernel's ephemeral ports, so that an outgoing connection never
# takes a port between the moment it is chosen and the moment a server binds it.
DEFAULT_TEST_PORTS = "20000-29999"


def worker_index() -> int:
    """This pytest-xdist worker's number (gw3: 3), 0 in a run without workers."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name.removeprefix("gw") or 0)


def worker_count() -> int:
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


def worker_ports(
    spec: str | None = None, index: int | None = None, count: int | None = None
) -> range:
    """This worker's own block of the test port range: workers never hand out the same port."""
    low, high = map(
        int, (spec or os.environ.get("SEATFLOW_TEST_PORTS") or DEFAULT_TEST_PORTS).split("-")
    )
    index = worker_index() if index is None else index
    count = max(worker_count() if count is None else count, 1)
    size = (high - low + 1) // count
    if size < 1:
        raise ValueError(f"port range {low}-{high} is too small for {count} workers")
    start = low + index * size
    return range(start, start + size)


class _PortCycle:
    """Hands out the ports of this worker's block in turn, from a random place (so that two
    runs at once rarely start on the same port), each one free when handed out."""

    def __init__(self) -> None:
        self._block: range | None = None
        self._next = 0

    def take(self) -> int:
        if self._block is None:
            self._block = worker_ports()
            self._next = int.from_bytes(os.urandom(2), "big") % len(self._block)
        block = self._block
        for _ in range(len(block)):
            port = block[self._next % len(block)]
            self._next += 1
            if _bindable(port):
                return port
        raise AssertionError(f"no free port in {block.start}-{block.stop - 1}")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


_PORTS = _PortCycle()


def free_port() -> int:
    """A free port of this worker's own block (see `worker_ports`)."""
    return _PORTS.take()


def wait_until(predicate: Callable[[], Any], timeout: float = 30, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


class Process:
    """A child process whose output goes to a log file read back on failure."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.log_path = Path(tempfile.mkstemp(prefix=f"seatflow-{name}-", suffix=".log")[1])
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            args,
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # What `ready` waits for: a condition and the process's name for the error message.
        self._ready: tuple[Callable[[], bool], str] | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        self.signal(sig)
        self.reap(timeout)

    def signal(self, sig: int = signal.SIGTERM) -> None:
        """Send `sig` to the process group, not waiting (see `stop_all`)."""
        if self.popen.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)

    def reap(self, timeout: float = 20) -> None:
        """Wait up to `timeout` for the exit a signal asked for, then SIGKILL."""
        if self.popen.poll() is None:
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)
        self._log.close()

    def ready(self, timeout: float = 30) -> Process:
        """Wait until the process says it is ready (see `launch_gunicorn`, `launch_worker`)."""
        if self._ready is None:
            return self
        predicate, what = self._ready
        try:
            wait_until(lambda: predicate() or self.popen.poll() is not None, timeout)
        except AssertionError:
            self.stop()
            raise AssertionError(f"{what} did not start:\n{self.output()}") from None
        if self.popen.poll() is not None:
            raise AssertionError(f"{what} exited:\n{self.output()}")
        self._ready = None
        return self


def stop_all(procs: list[Process], sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Stop several processes together: every one is signalled before any is waited for,
    so their shutdowns overlap instead of adding up."""
    for proc in procs:
        proc.signal(sig)
    for proc in procs:
        proc.reap(timeout)


def start_all(*launched: Process, timeout: float = 30) -> list[Process]:
    """Wait for processes started with `launch_…` to be ready: they start side by side, each
    waited for on its own condition, and all are stopped if one does not come up."""
    try:
        return [proc.ready(timeout) for proc in launched]
    except BaseException:
        stop_all(list(launched))
        raise


def service_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    # No metrics listener on the fixed default ports (9808, 9809) unless a test asks for one:
    # tests run side by side, and a port is each one's own.
    env.update(WORKER_METRICS_PORT="0", BEAT_METRICS_PORT="0")
    env.update(values)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_gunicorn(
    env: dict[str, str],
    port: int,
    threads: int = 4,
    app: str = "webhooks:create_app()",
    config: Path | None = None,
    workers: int = 1,
) -> Process:
    """gunicorn as the Procfile runs it, once it answers; `config` is a settings file such as
    deploy/gunicorn.conf.py (without it, gunicorn's defaults)."""
    return launch_gunicorn(env, port, threads, app, config, workers).ready()


def launch_gunicorn(
    env: dict[str, str],
    port: int,
    threads: int = 4,
    app: str = "webhooks:create_app()",
    config: Path | None = None,
    workers: int = 1,
) -> Process:
    """gunicorn started, not yet waited for: `start_all` (or `.ready()`) waits until its
    /healthz answers."""
    settings = ["--config", str(config)] if config else []
    proc = Process(
        "web",
        [
            PYTHON,
            "-m",
            "gunicorn",
            *settings,
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            app,
        ],
        env,
    )
    proc._ready = (lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), "gunicorn")
    return proc


def start_worker(env: dict[str, str], concurrency: int = 1, pool: str = "prefork") -> Process:
    """A `celery worker`, once it says it is ready."""
    return launch_worker(env, concurrency, pool).ready()


def launch_worker(env: dict[str, str], concurrency: int = 1, pool: str = "prefork") -> Process:
    """A `celery worker` started, not yet waited for (see `start_all`)."""
    proc = Process("worker", worker_args(concurrency, pool), env)
    proc._ready = (lambda: "ready." in proc.output(), "worker")
    return proc


def launch_default_named_worker(env: dict[str, str]) -> Process:
    """A worker on Celery's default node name, `celery@<host>`, as one outside the tests
    runs (only to show that the tests' workers do not collide with it)."""
    from cli.devserver import worker_command

    proc = Process("worker", worker_command(1, "--pool", "solo", "--without-heartbeat"), env)
    proc._ready = (lambda: "ready." in proc.output(), "worker")
    return proc


def worker_args(concurrency: int, pool: str) -> list[str]:
    """The command of a test worker, with a node name of its own: on the default one
    (`celery@<host>`) it would share its mailbox queue, exclusive on RabbitMQ, with any other
    worker of that name on the broker (another run's, or another developer's)."""
    from cli.devserver import worker_command

    name = f"test-{os.urandom(6).hex()}@%h"
    return worker_command(concurrency, "--pool", pool, "--without-heartbeat", "-n", name)


def start_beat(env: dict[str, str], schedule_dir: Path) -> Process:
    from cli.devserver import beat_command

    return Process("beat", beat_command(str(schedule_dir / "beat-schedule")), env)


@contextmanager
def redis_server() -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A throwaway Redis on a free port: (url, stop, start). Never the machine's own."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise AssertionError("redis-server is not installed")
    port = free_port()
    state: dict[str, subprocess.Popen[bytes] | None] = {"proc": None}

    def start() -> None:
        state["proc"] = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: _tcp_open(port), 10)

    def stop() -> None:
        proc = state["proc"]
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait(5)

    start()
    try:
        yield f"redis://127.0.0.1:{port}/0", stop, start
    finally:
        stop()


def _tcp_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresServer:
    """A throwaway PostgreSQL cluster on a free port (never the machine's own)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="seatflow-pg-"))
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            PG_BIN / "initdb",
            "-D",
            str(self.dir / "data"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        )
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str | Path) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, args)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off"
        )
        self._as_postgres(
            PG_BIN / "pg_ctl",
            "-D",
            self.dir / "data",
            "-o",
            options,
            "-l",
            self.dir / "log",
            "-w",
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.dir / "data", "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.remove()


def children_of(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return [int(x) for x in out.split()]


def queued_event_ids(client: Any, queue: str) -> list[str]:
    """The event ids named by the task messages waiting in a Redis queue, in order."""
    named: list[str] = []
    for raw in client.lrange(queue, 0, -1):
        message = json.loads(raw)
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        named.extend(args[0] if isinstance(args[0], list) else [args[0]])
    return named
