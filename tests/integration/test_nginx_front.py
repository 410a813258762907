"""The production front (deploy/nginx/seatflow.conf, a real nginx) before the real receiver
under gunicorn: clients that send a request slowly wait in nginx, not in gunicorn's threads.

The control runs the same slow clients straight at gunicorn and shows that they starve it,
so the front's test would fail without the front.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import shutil
import socket
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import text

from config.database import make_engine
from config.settings import Settings
from tests.conftest import SECRET, env_for
from tests.support import ROOT, Process, free_port, http_ok, start_gunicorn, wait_until

pytestmark = pytest.mark.slow

NGINX_CONF = ROOT / "deploy" / "nginx" / "seatflow.conf"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
SLOW_CLIENTS = 50
THREADS = 8  # the Procfile's WEB_THREADS default
DELIVERIES = 10
WITHIN = 1.0  # seconds a delivery may take while the slow clients are held
STARVED_FOR = 3.0  # seconds the control waits for an answer gunicorn cannot give


# --- the processes --------------------------------------------------------------------------


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.fail("nginx is required (Debian's package; run scripts/ensure-nginx)")
    return found


def render_front(port: int, receiver: int, api: int) -> str:
    """The production file with this test's ports in place of the Procfile's."""
    conf = NGINX_CONF.read_text()
    for old, new in {
        "listen 80;": f"listen 127.0.0.1:{port};",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{receiver};",
        "server 127.0.0.1:8001;": f"server 127.0.0.1:{api};",
    }.items():
        assert conf.count(old) == 1, f"{NGINX_CONF.name} no longer has one {old!r}"
        conf = conf.replace(old, new)
    return conf


def start_nginx(prefix: Path, port: int, receiver: int, api: int) -> Process:
    """nginx in the foreground with pid, logs and temporary files under `prefix`."""
    prefix.chmod(0o755)  # run as root, nginx's workers (www-data) use its temporary folders
    conf = prefix / "seatflow.conf"
    conf.write_text(render_front(port, receiver, api))
    args = [nginx_binary(), "-p", f"{prefix}/", "-c", str(conf), "-g", "daemon off;"]
    proc = Process("nginx", args, {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    try:
        # /healthz through the front is answered by the pages/API process.
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/healthz") or proc.popen.poll(), 15)
        if proc.popen.poll() is not None:
            raise AssertionError
    except AssertionError:
        proc.stop()
        log = prefix / "error.log"
        errors = log.read_text() if log.exists() else ""
        raise AssertionError(f"nginx did not start:\n{proc.output()}{errors}") from None
    return proc


@dataclass
class Front:
    port: int
    receiver: int
    settings: Settings

    @property
    def hook(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/stripe"

    @property
    def direct_hook(self) -> str:
        return f"http://127.0.0.1:{self.receiver}/webhooks/stripe"

    def stored(self, event_ids: list[str]) -> int:
        engine = make_engine(self.settings)
        try:
            with engine.connect() as conn:
                query = text("SELECT count(*) FROM inbox WHERE event_id = ANY(:ids)")
                return int(conn.scalar(query, {"ids": event_ids}) or 0)
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def front(
    postgres_url: str, shared_redis: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Front]:
    settings = Settings(
        mode="test",
        database_url=postgres_url,
        broker_url=shared_redis,
        stripe_webhook_secrets=(SECRET,),
        queue_name=f"seatflow-test-{secrets.token_hex(4)}",
        data_dir=tmp_path_factory.mktemp("front"),
    )
    env = env_for(settings)
    receiver, api, port = free_port(), free_port(), free_port()
    prefix = Path(tempfile.mkdtemp(prefix="seatflow-nginx-"))
    procs: list[Process] = []
    try:
        procs.append(start_gunicorn(env, receiver, threads=THREADS, config=GUNICORN_CONF))
        procs.append(start_gunicorn(env, api, app="api:create_app()", config=GUNICORN_CONF))
        procs.append(start_nginx(prefix, port, receiver, api))
        yield Front(port, receiver, settings)
    finally:
        for proc in reversed(procs):
            proc.stop()
        redis.Redis.from_url(shared_redis).delete(settings.queue_name)
        shutil.rmtree(prefix, ignore_errors=True)


# --- clients --------------------------------------------------------------------------------


@dataclass
class Delivery:
    event_id: str
    status: int | None  # None: no answer in time
    seconds: float


def deliver(url: str, timeout: float = 5.0) -> Delivery:
    """One signed Stripe event on a new connection, as Stripe sends it."""
    event_id = f"evt_{secrets.token_hex(12)}"
    event = {
        "id": event_id,
        "object": "event",
        "type": "customer.subscription.updated",
        "created": int(time.time()),
        "data": {"object": {"id": "sub_front", "object": "subscription", "customer": "cus_x"}},
    }
    body = json.dumps(event).encode()
    stamp = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "Stripe-Signature": f"t={stamp},v1={mac}"}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.monotonic()
    status: int | None
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = int(exc.code)
    except TimeoutError:
        status = None
    except urllib.error.URLError as exc:
        if not isinstance(exc.reason, TimeoutError):
            raise
        status = None
    return Delivery(event_id, status, time.monotonic() - started)


def post(url: str, body: bytes, content_type: str = "application/json") -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    return status_of(request)


def status_of(request: urllib.request.Request | str) -> int:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


ESTABLISHED, CLOSE_WAIT = "01", "08"


def tcp_sockets() -> dict[tuple[int, int], tuple[str, int]]:
    """(local port, remote port) of each IPv4 socket -> (its state, bytes it has received
    that its process has not read yet), from the kernel's table."""
    sockets = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        _, local, remote, state, tx_rx, *_ = line.split()
        ports = (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16))
        sockets[ports] = (state, int(tx_rx.split(":")[1], 16))
    return sockets


class SlowClients:
    """`count` connections that begin a request and never finish it: the header (`part`
    "header") or the body ("body") goes on arriving one byte at a time."""

    def __init__(self, port: int, part: str, count: int = SLOW_CLIENTS) -> None:
        self.port, self.part, self.count = port, part, count
        self.socks: list[socket.socket] = []
        self.server_ends: list[tuple[int, int]] = []  # (server port, client port)
        self._stop = threading.Event()
        self._trickle = threading.Thread(target=self._send_slowly, daemon=True)

    def _opening(self) -> bytes:
        head = f"POST /webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
        if self.part == "header":
            return head.encode() + b"X-Slow: "
        return (
            head + "Content-Type: application/json\r\nStripe-Signature: t=1,v1=00\r\n"
            "Content-Length: 100000\r\n\r\n{"
        ).encode()

    def __enter__(self) -> SlowClients:
        for _ in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            self.socks.append(sock)
            self.server_ends.append((self.port, sock.getsockname()[1]))
            sock.sendall(self._opening())
        self._trickle.start()
        return self

    def _send_slowly(self) -> None:
        while not self._stop.wait(0.5):
            for sock in self.socks:
                with suppress(OSError):  # the server gave up on this one
                    sock.send(b"a")

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._trickle.join(5)
        for sock in self.socks:
            sock.close()
        # The next test starts once the server has let go of every one of them.
        wait_until(lambda: self.held_by_server() == 0, 15)

    def read_by_server(self) -> int:
        """How many are open with everything they sent so far read by the server."""
        sockets = tcp_sockets()
        return sum(1 for end in self.server_ends if sockets.get(end) == (ESTABLISHED, 0))

    def held_by_server(self) -> int:
        sockets = tcp_sockets()
        states = [sockets.get(end, ("", 0))[0] for end in self.server_ends]
        return sum(1 for state in states if state in (ESTABLISHED, CLOSE_WAIT))


# --- tests ----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


@pytest.mark.parametrize("part", ["header", "body"])
def test_fifty_slow_clients_do_not_delay_a_delivery_through_the_front(
    front: Front, part: str
) -> None:
    idle = [deliver(front.hook) for _ in range(DELIVERIES)]
    with SlowClients(front.port, part) as slow:
        # nginx has read what every one of them sent so far, and holds all of them.
        wait_until(lambda: slow.read_by_server() == SLOW_CLIENTS, 10)
        held = [deliver(front.hook, timeout=5) for _ in range(DELIVERIES)]
        still_held = slow.read_by_server()
    worst = max(d.seconds for d in held)
    print(
        f"\nfront, {SLOW_CLIENTS} clients sending their {part} slowly: {DELIVERIES} deliveries "
        f"median {ms(statistics.median(d.seconds for d in held))}, max {ms(worst)} "
        f"(idle: median {ms(statistics.median(d.seconds for d in idle))}, "
        f"max {ms(max(d.seconds for d in idle))})"
    )
    assert [d.status for d in idle + held] == [200] * (2 * DELIVERIES)
    assert worst < WITHIN
    assert still_held == SLOW_CLIENTS, "the slow clients were dropped before the deliveries"
    assert front.stored([d.event_id for d in idle + held]) == 2 * DELIVERIES


@pytest.mark.parametrize("part", ["header", "body"])
def test_the_same_slow_clients_starve_gunicorn_without_the_front(front: Front, part: str) -> None:
    with SlowClients(front.receiver, part) as slow:
        # Every thread is reading a slow request; the other connections queue behind them.
        wait_until(lambda: slow.read_by_server() >= THREADS, 10)
        starved = deliver(front.direct_hook, timeout=STARVED_FOR)
        threads_held = slow.read_by_server()
    print(
        f"\ngunicorn alone ({THREADS} threads), {SLOW_CLIENTS} clients sending their {part} "
        f"slowly: {threads_held} read, delivery "
        + (f"answered {starved.status}" if starved.status else "not answered")
        + f" after {ms(starved.seconds)}"
    )
    assert starved.status is None
    # Once the slow clients are gone, gunicorn serves again.
    wait_until(lambda: http_ok(f"http://127.0.0.1:{front.receiver}/healthz"), 15)


def test_one_address_holds_a_bounded_number_of_requests_at_the_front(front: Front) -> None:
    limit = int(re.findall(r"limit_conn seatflow_addr (\d+);", NGINX_CONF.read_text())[0])
    with SlowClients(front.port, "body", count=limit) as slow:
        wait_until(lambda: slow.read_by_server() == limit, 10)
        over = deliver(front.hook)
    print(f"\nfront, request {limit + 1} of one address: {over.status} in {ms(over.seconds)}")
    assert over.status == 429
    assert over.seconds < WITHIN
    # Their slots are freed as soon as they go.
    wait_until(lambda: deliver(front.hook).status == 200, 10)


def test_the_front_refuses_large_bodies_hides_metrics_and_routes_by_path(front: Front) -> None:
    limit = front.settings.webhook_max_body
    # At the limit the body reaches the receiver (not an event: 400); one byte more is
    # refused by nginx before it reaches gunicorn.
    assert post(front.hook, b" " * limit) == 400
    assert post(front.hook, b" " * (limit + 1)) == 413
    assert status_of(f"http://127.0.0.1:{front.port}/metrics") == 403
    assert status_of(f"http://127.0.0.1:{front.receiver}/metrics") == 200
    assert status_of(f"http://127.0.0.1:{front.port}/api/v1/openapi.json") == 200
    assert status_of(front.hook) == 405  # the receiver's answer to GET
