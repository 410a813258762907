"""The same pipeline with no servers at all: SQLite inbox, kombu's SQLite broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from adapters import migrations
from adapters.orm import subscriptions
from adapters.unit_of_work import SqlUnitOfWork
from cli import samples
from config.celery import make_celery, prepare_broker
from config.settings import Settings
from inbox.table import inbox
from services import admin
from tests.conftest import SECRET, env_for
from tests.support import (
    ROOT,
    free_port,
    launch_gunicorn,
    launch_worker,
    start_all,
    stop_all,
    wait_until,
)

pytestmark = pytest.mark.slow


def test_signed_event_is_applied_on_the_embedded_default(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"SEATFLOW_DATA_DIR": str(tmp_path), "STRIPE_WEBHOOK_SECRETS": SECRET}
    )
    assert settings.database_url.startswith("sqlite:///")
    assert settings.broker_url.startswith("sqla+sqlite:///")
    migrations.upgrade(settings.database_url)
    prepare_broker(make_celery(settings))
    engine = create_engine(settings.database_url)
    admin.create_organization(SqlUnitOfWork(engine), "Lite", "org_lite", "cus_lite")
    env = env_for(settings)
    port = free_port()
    web, worker = start_all(launch_gunicorn(env, port), launch_worker(env))
    try:
        obj = samples.subscription_object(customer="cus_lite", seats=12, interval="year")
        event = samples.event("customer.subscription.created", obj)
        status, _ = samples.post(
            f"http://127.0.0.1:{port}/webhooks/stripe", *samples.signed(event, SECRET)
        )
        assert status == 200

        def state() -> str | None:
            with engine.connect() as conn:
                return conn.scalar(select(inbox.c.state).where(inbox.c.event_id == event["id"]))

        wait_until(lambda: state() == "applied", 30)
        with engine.connect() as conn:
            assert conn.execute(select(subscriptions.c.seats, subscriptions.c.interval)).all() == [
                (12, "year")
            ]
    finally:
        stop_all([web, worker])
        engine.dispose()


def test_seatflow_dev_demo_shows_a_sample_event_applied(tmp_path: Path) -> None:
    """What the README's first command does for a new user."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env.update(SEATFLOW_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    ports = ["--port", str(free_port()), "--api-port", str(free_port())]
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "dev", "--demo", *ports],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("demo: event"):
                break
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        proc.stdout.close()
    output = "".join(lines)
    assert "demo: POST /webhooks/stripe -> HTTP 200" in output, output[-3000:]
    assert lines[-1].rstrip().endswith("is applied"), output[-3000:]
