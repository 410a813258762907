"""What `seatflow` says when an operator's command cannot do what was asked: the reason in
one line, never a misleading hint; and the catalog/discount commands an operator needs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import stripe

from adapters.stripe_parsing import to_command
from config.database import make_engine
from config.events import HANDLED_EVENT_TYPES
from config.settings import Settings
from tests.builders import store_event, subscription_event
from tests.conftest import env_for
from tests.support import ROOT

pytestmark = pytest.mark.slow  # every test here starts a process


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def env(sqlite_settings: Settings) -> dict[str, str]:
    return env_for(sqlite_settings)


def test_a_duplicate_discount_code_says_it_already_exists(env: dict[str, str]) -> None:
    assert run(env, "discount", "create", "spring", "--percent-off", "10").returncode == 0
    again = run(env, "discount", "create", "SPRING", "--percent-off", "15")
    assert again.returncode == 1
    assert again.stderr.strip() == "error: discount code 'SPRING' already exists", again.stderr


def test_discounts_are_listed_and_one_is_disabled(env: dict[str, str]) -> None:
    run(env, "discount", "create", "SPRING", "--percent-off", "10", "--max-redemptions", "5")
    run(env, "discount", "create", "FALL", "--amount-off", "500", "--currency", "usd")
    listed = run(env, "discount", "list")
    assert listed.returncode == 0, listed.stderr
    rows = {d["code"]: d for d in json.loads(listed.stdout)}
    assert set(rows) == {"SPRING", "FALL"}
    assert rows["SPRING"]["active"] is True and rows["SPRING"]["max_redemptions"] == 5
    assert rows["SPRING"]["times_redeemed"] == 0
    disabled = run(env, "discount", "disable", "spring")
    assert disabled.returncode == 0, disabled.stderr
    rows = {d["code"]: d for d in json.loads(run(env, "discount", "list").stdout)}
    assert (rows["SPRING"]["active"], rows["FALL"]["active"]) == (False, True)
    missing = run(env, "discount", "disable", "NOPE")
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: no discount code 'NOPE'")


def test_an_invalid_catalog_file_is_named_with_its_line_and_column(
    env: dict[str, str], tmp_path: Path
) -> None:
    broken = tmp_path / "prices.json"
    broken.write_text('[\n  {"license_type": "node_locked",}\n]\n')
    done = run(env, "catalog", "import", str(broken))
    assert done.returncode == 1
    line = done.stderr.strip()
    assert str(broken) in line and "line 2 column 34" in line, line
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_catalog_price_is_removed_by_its_stripe_price_id(env: dict[str, str]) -> None:
    assert run(env, "catalog", "import", "cli/data/catalog.json").returncode == 0
    before = run(env, "catalog", "list").stdout
    assert "price_node_locked_enterprise_year" in before
    done = run(env, "catalog", "remove", "price_node_locked_enterprise_year")
    assert done.returncode == 0, done.stderr
    after = run(env, "catalog", "list").stdout
    assert "price_node_locked_enterprise_year" not in after
    assert len(after.splitlines()) == len(before.splitlines()) - 1
    missing = run(env, "catalog", "remove", "price_nope")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: no catalog price with Stripe price id 'price_nope'"


@pytest.mark.parametrize("args", [("catalog", "list"), ("events", "show", "evt_many")])
def test_output_into_a_closed_pipe_ends_quietly(
    env: dict[str, str], sqlite_settings: Settings, args: tuple[str, ...]
) -> None:
    """`seatflow … | head`: once the reader is gone, no `[Errno 32] Broken pipe`."""
    run(env, "catalog", "import", "cli/data/catalog.json")
    event = subscription_event("cus_x", created=1)
    event["id"] = "evt_many"
    store_event(make_engine(sqlite_settings), event)
    reader, writer = os.pipe()
    os.close(reader)  # as `head` does once it has its lines
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            cwd=ROOT,
            env=env,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(writer)
    assert done.stderr == "", done.stderr
    assert done.returncode in (0, 128 + signal.SIGPIPE), done.returncode


def store(sqlite_settings: Settings, event_id: str, state: str) -> None:
    event = subscription_event("cus_x", created=1)
    event["id"] = event_id
    store_event(make_engine(sqlite_settings), event, state=state)


def test_redrive_says_why_an_event_was_not_redriven(
    env: dict[str, str], sqlite_settings: Settings
) -> None:
    store(sqlite_settings, "evt_applied", "applied")
    done = run(env, "events", "redrive", "--id", "evt_applied", "--id", "evt_unknown")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert "evt_applied: not redriven: it is applied, not dead" in lines[0], lines
    assert "seatflow events replay evt_applied" in lines[0]
    assert lines[1] == "evt_unknown: not redriven: no such event", lines
    assert lines[-1] == "0 event(s) redriven"


@pytest.mark.parametrize(
    "url",
    [
        "not-a-url",
        "billing.example.com/webhooks/stripe",
        "http://billing.example.com/webhooks/stripe",
        "ftp://billing.example.com/webhooks/stripe",
        "https:///webhooks/stripe",
    ],
)
def test_setup_webhook_refuses_a_url_stripe_cannot_call_before_sending_anything(
    env: dict[str, str], url: str
) -> None:
    with socket.socket() as stripe_api:
        stripe_api.bind(("127.0.0.1", 0))
        stripe_api.listen()
        stripe_api.settimeout(0.5)
        base = f"http://127.0.0.1:{stripe_api.getsockname()[1]}"
        done = run(env | {"STRIPE_API_BASE": base}, "stripe", "setup-webhook", url)
        with pytest.raises(TimeoutError):
            stripe_api.accept()  # nothing was sent
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: {url!r} is not a URL Stripe can send events to: give an absolute https:// "
        "URL (http:// only for localhost)"
    ), done.stderr


class Received(BaseHTTPRequestHandler):
    bodies: list[tuple[bytes, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Received.bodies.append((body, self.headers["Stripe-Signature"]))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"received":true}')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Received.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Received)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    finally:
        server.shutdown()
        server.server_close()


def test_send_sample_sends_each_event_type_seatflow_acts_on(
    env: dict[str, str], receiver: str, sqlite_settings: Settings
) -> None:
    """The command once as a process; each other type through the function it calls."""
    from cli import devserver

    secret = env["STRIPE_WEBHOOK_SECRETS"].split(",")[0]
    first, *others = sorted(HANDLED_EVENT_TYPES)
    for event_type in [first, *others]:
        if event_type == first:
            done = run(env, "send-sample", event_type, "--url", receiver, "--customer", "cus_9")
            assert done.returncode == 0, (event_type, done.stderr)
        else:
            status, _ = devserver.send_sample(sqlite_settings, receiver, "cus_9", event_type)
            assert status == 200, event_type
        body, signature = Received.bodies[-1]
        event = stripe.Webhook.construct_event(body.decode(), signature, secret)
        assert event["type"] == event_type
        assert to_command(json.loads(body)) is not None, event_type  # seatflow acts on it
    assert len(Received.bodies) == len(HANDLED_EVENT_TYPES)


def test_send_sample_refuses_a_type_it_cannot_send_and_lists_those_it_can(
    env: dict[str, str], receiver: str
) -> None:
    done = run(env, "send-sample", "charge.refunded", "--url", receiver)
    assert done.returncode == 2
    assert "charge.refunded" in done.stderr
    for event_type in HANDLED_EVENT_TYPES:
        assert event_type in done.stderr
    assert Received.bodies == []
