"""In production every line gunicorn (access and error), Celery and seatflow write is one
JSON object: real gunicorn with deploy/gunicorn.conf.py, a real worker and beat as the
Procfile starts it, one request, one task."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from sqlalchemy import text

from cli import samples
from config.database import make_engine
from config.settings import Settings
from tests.support import (
    PYTHON,
    ROOT,
    Process,
    free_port,
    http_ok,
    service_env,
    start_gunicorn,
    start_worker,
    wait_until,
)

SECRET = "whsec_Xq7Lm2Rt9Vb4Nz8Kp3Wc6Hy1Jd5Fg0Se"


def production_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return service_env(
        SEATFLOW_ENV="production",
        DATABASE_URL=settings.database_url,
        CELERY_BROKER_URL=settings.broker_url,
        SEATFLOW_QUEUE=settings.queue_name,
        STRIPE_API_KEY="sk_test_51Hx2fakeTestKeyForTestsOnly9876543210",
        SEATFLOW_ALLOW_TEST_KEYS="true",
        STRIPE_API_BASE="http://127.0.0.1:9",  # nothing here asks Stripe
        STRIPE_WEBHOOK_SECRETS=SECRET,
        LICENSE_SIGNING_KEY="q3TtvlRFD1KPwbFV2ajPRo3+tGFmnNDdHkIwNSWzxwM=",
        SEATFLOW_SECRET_KEY="3f9c1e7a5b2d8f4e6a0c9b1d7e3f5a2c",
        SEATFLOW_PUBLIC_URL="https://billing.example.com",
        SEATFLOW_DATA_DIR=str(tmp_path),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path),
        WORKER_METRICS_PORT="0",
        BEAT_METRICS_PORT="0",
    )


def procfile_beat(env: dict[str, str], schedule: Path) -> Process:
    """beat exactly as the Procfile starts it."""
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("beat:"))
    words = line.removeprefix("beat:").split()
    assert words[0] == "celery"
    return Process("beat", [PYTHON, "-m", *words, "--schedule", str(schedule)], env)


def lines_of(*processes: Process) -> list[tuple[str, str]]:
    return [
        (proc.name, line)
        for proc in processes
        for line in proc.output().splitlines()
        if line.strip()
    ]


def not_json(lines: list[tuple[str, str]]) -> list[tuple[str, str]]:
    bad = []
    for name, line in lines:
        try:
            parsed = json.loads(line)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            bad.append((name, line))
    return bad


def test_every_line_of_gunicorn_the_worker_and_beat_is_json_in_production(
    pg_settings: Settings, tmp_path: Path
) -> None:
    env = production_env(pg_settings, tmp_path)
    port = free_port()
    web = start_gunicorn(env, port, config=ROOT / "deploy" / "gunicorn.conf.py")
    worker = start_worker(env)
    beat = procfile_beat(env, tmp_path / "beat-schedule")
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), 30)
        event = samples.event(
            "customer.subscription.created", samples.subscription_object(customer="cus_logs")
        )
        status = samples.post(
            f"http://127.0.0.1:{port}/webhooks/stripe", *samples.signed(event, SECRET)
        )[0]
        assert status == 200
        engine = make_engine(pg_settings)
        query = text("SELECT state FROM inbox WHERE event_id = :id")

        def done() -> bool:
            with engine.connect() as conn:
                return conn.execute(query, {"id": event["id"]}).scalar() not in (
                    None,
                    "received",
                    "queued",
                )

        wait_until(done, 30)
        engine.dispose()
        wait_until(lambda: "succeeded" in worker.output(), 10)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
            pass
        wait_until(lambda: "beat lock acquired" in beat.output(), 30)
    finally:
        web.stop()
        worker.stop()
        beat.stop()
    lines = lines_of(web, worker, beat)
    assert not not_json(lines), "\n".join(f"{n}: {line}" for n, line in not_json(lines))
    records = [json.loads(line) for _, line in lines]
    assert not [r for r in records if r["level"] in ("error", "critical")], records
    loggers = {r["logger"] for r in records}
    assert {"gunicorn.access", "gunicorn.error"} <= loggers
    assert any(name.startswith("celery") for name in loggers)
    assert any(name == "celery.beat" for name in loggers)
    assert any(name.startswith("seatflow") for name in loggers)
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    assert any(a.get("path") == "/webhooks/stripe" and a.get("status") == 200 for a in access)
