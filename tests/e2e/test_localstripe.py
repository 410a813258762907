"""A real Stripe-protocol peer: localstripe delivers signed webhooks over HTTP to seatflow.

localstripe is registered with seatflow's receiver as its webhook endpoint; a customer, a
product, a plan and a subscription are created through the `stripe` SDK against it; its
signed deliveries must arrive, verify and be applied.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import stripe
from sqlalchemy import select

from adapters.orm import licenses, subscriptions
from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from inbox.table import inbox
from services import admin
from tests.conftest import SECRET, env_for
from tests.support import (
    ROOT,
    free_port,
    http_ok,
    launch_gunicorn,
    launch_worker,
    start_all,
    stop_all,
    wait_until,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def localstripe():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.localstripe_peer", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(f"{url}/js.stripe.com/v3/") or proc.poll() is not None, 30)
        assert proc.poll() is None, "localstripe did not start"
        yield url
    finally:
        proc.kill()
        proc.wait(10)


def test_signed_deliveries_from_localstripe_are_verified_and_applied(
    pg_settings, tmp_path: Path, localstripe: str
) -> None:
    engine = make_engine(pg_settings)
    env = env_for(
        pg_settings.with_overrides(data_dir=tmp_path),
        STRIPE_API_BASE=localstripe,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    port = free_port()
    web, worker = start_all(launch_gunicorn(env, port), launch_worker(env))
    try:
        hook = f"http://127.0.0.1:{port}/webhooks/stripe"
        form = urllib.parse.urlencode({"url": hook, "secret": SECRET}).encode()
        urllib.request.urlopen(f"{localstripe}/_config/webhooks/seatflow", data=form, timeout=10)

        client = stripe.StripeClient(
            "sk_test_seatflow", base_addresses={"api": localstripe}, max_network_retries=0
        )
        customer = client.v1.customers.create({"email": "owner@acme.example", "name": "Acme"})
        uow = SqlUnitOfWork(engine)
        org = admin.create_organization(uow, "Acme", customer=customer.id)
        product = client.v1.products.create({"name": "Node-locked license"})
        plan = client.v1.plans.create(
            {"product": product.id, "amount": 10000, "currency": "usd", "interval": "month"}
        )
        admin.import_catalog(
            uow,
            [
                {
                    "license_type": "node_locked",
                    "interval": "month",
                    "unit_amount": 10000,
                    "currency": "usd",
                    "stripe_price_id": plan.id,
                }
            ],
        )
        method = client.v1.payment_methods.create(
            {
                "type": "card",
                "card": {
                    "number": "4242424242424242",
                    "exp_month": 12,
                    "exp_year": 2030,
                    "cvc": "123",
                },
            }
        )
        client.v1.payment_methods.attach(method.id, {"customer": customer.id})
        client.v1.customers.update(
            customer.id, {"invoice_settings": {"default_payment_method": method.id}}
        )
        sub = client.v1.subscriptions.create(
            {"customer": customer.id, "items": [{"plan": plan.id, "quantity": 3}]}
        )

        def applied() -> bool:
            with engine.connect() as conn:
                return (
                    conn.execute(
                        select(inbox.c.state).where(inbox.c.type == "customer.subscription.created")
                    ).scalar()
                    == "applied"
                )

        wait_until(applied, 60)
        with engine.connect() as conn:
            rows = conn.execute(select(inbox.c.type, inbox.c.state, inbox.c.secret_index)).all()
            local = conn.execute(
                select(
                    subscriptions.c.stripe_subscription_id,
                    subscriptions.c.seats,
                    subscriptions.c.license_type,
                    subscriptions.c.organization_id,
                )
            ).one()
            issued = conn.execute(select(licenses.c.seats, licenses.c.cause)).all()
        assert tuple(local) == (sub.id, 3, "node_locked", org["id"])
        assert {r.secret_index for r in rows} == {0}  # every delivery verified
        types = {r.type: r.state for r in rows}
        assert types["customer.subscription.created"] == "applied"
        assert types["customer.created"] == "ignored"
        assert len(rows) >= 4, json.dumps([tuple(r) for r in rows])
        assert [(seats, cause.split(":")[0]) for seats, cause in issued] == [(3, "created")]

        # The receiver's /metrics, summed over its gunicorn processes.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            metrics = response.read().decode()
        lines = [x for x in metrics.splitlines() if x.startswith("seatflow_")]
        print("\n".join(lines))
        stored = [x for x in lines if x.startswith("seatflow_webhooks_received_total{")]
        assert sum(float(x.rsplit(" ", 1)[1]) for x in stored) == len(rows)
        timed = 'seatflow_http_request_duration_seconds_count{app="receiver",method="POST",'
        assert f'{timed}route="/webhooks/stripe",status="200"}} {float(len(rows))}' in lines
        assert any(
            x.startswith('seatflow_webhook_signature_checks_total{result="match"') for x in lines
        )
    finally:
        stop_all([web, worker])
        engine.dispose()
