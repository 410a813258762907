"""`seatflow stripe setup-webhook URL` against the stateful fake Stripe: what Stripe received."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.events import HANDLED_EVENT_TYPES, STRIPE_API_VERSION
from tests.stripe_model import StripeServer, StripeState
from tests.support import ROOT, service_env

URL = "https://billing.example.com/webhooks/stripe"


@pytest.fixture
def stripe_fake() -> Iterator[StripeServer]:
    with StripeServer(StripeState()) as server:
        yield server


def setup_webhook(server: StripeServer, tmp_path: Path, url: str = URL) -> str:
    env = service_env(
        SEATFLOW_ENV="development",
        SEATFLOW_DATA_DIR=str(tmp_path),
        SEATFLOW_CONFIG_DIR=str(tmp_path),
        STRIPE_API_KEY="sk_test_seatflow",
        STRIPE_API_BASE=server.url,
    )
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "stripe", "setup-webhook", url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_setup_webhook_creates_the_endpoint_with_the_handled_types_and_prints_its_secret(
    stripe_fake: StripeServer, tmp_path: Path
) -> None:
    out = setup_webhook(stripe_fake, tmp_path)
    [created] = stripe_fake.requests("POST", "/v1/webhook_endpoints")
    assert created.params["url"] == URL
    assert sorted(created.params["enabled_events"]) == sorted(HANDLED_EVENT_TYPES)
    assert created.params["api_version"] == STRIPE_API_VERSION
    [endpoint] = stripe_fake.state.all("webhook_endpoint")
    assert endpoint["secret"] in out and "STRIPE_WEBHOOK_SECRETS" in out


def test_setup_webhook_updates_an_endpoint_with_that_url_and_keeps_its_secret(
    stripe_fake: StripeServer, tmp_path: Path
) -> None:
    stripe_fake.state.webhook_endpoints_create(
        {"url": URL, "enabled_events": ["invoice.created"], "api_version": STRIPE_API_VERSION}
    )
    stripe_fake.state.webhook_endpoints_create(
        {"url": "https://other.example.com/hook", "enabled_events": ["*"]}
    )
    [endpoint, other] = stripe_fake.state.all("webhook_endpoint")
    out = setup_webhook(stripe_fake, tmp_path)
    assert not stripe_fake.requests("POST", "/v1/webhook_endpoints")
    [updated] = stripe_fake.requests("POST", f"/v1/webhook_endpoints/{endpoint['id']}")
    assert sorted(updated.params["enabled_events"]) == sorted(HANDLED_EVENT_TYPES)
    assert updated.params["url"] == URL
    assert sorted(endpoint["enabled_events"]) == sorted(HANDLED_EVENT_TYPES)
    assert other["enabled_events"] == ["*"]
    assert endpoint["secret"] not in out and "roll" in out.lower()


def test_the_stripe_guide_forwards_exactly_the_handled_event_types() -> None:
    readme = (ROOT / "docs" / "stripe.md").read_text()
    found = re.findall(
        r"stripe listen --events (\S+) --forward-to localhost:8000/webhooks/stripe", readme
    )
    assert found, "docs/stripe.md gives the `stripe listen` line"
    for line in found:
        assert sorted(line.split(",")) == sorted(HANDLED_EVENT_TYPES)
    assert STRIPE_API_VERSION in readme
