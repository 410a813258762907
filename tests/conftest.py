"""Shared fixtures. Integration fixtures use the real PostgreSQL and Redis and fail (never skip)
when they are missing: CI starts them, and a missing service must not pass as green."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy import Engine, event, text

from adapters import migrations
from config.database import make_engine
from config.settings import Settings
from tests.support import worker_count, worker_index

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
# Each pytest-xdist worker its own Redis database (gw0: 1, gw1: 2, …; 0 without workers), so
# the broker's shared keys (bindings, unacked messages, mailboxes) are never another
# worker's. Nothing flushes it: every test's queue has a name of its own.
REDIS_URL = f"redis://127.0.0.1:6379/{(worker_index() + 1) % 16 if worker_count() > 1 else 0}"
SECRET = "whsec_test_secret_primary"
OLD_SECRET = "whsec_test_secret_previous"


def stripe_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "stripe" / f"{name}.json").read_text())
    return data


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    # The worker's name in the database's (gw1: seatflow_t_gw1_…): one database a worker.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"seatflow_t_{worker}_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is required at 127.0.0.1:5432 (run scripts/ensure-services): {exc}"
        )
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    migrations.upgrade(url)
    yield url
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def shared_redis() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is required at 127.0.0.1:6379 (run scripts/ensure-services): {exc}")
    return REDIS_URL


TABLES = (
    "scheduled_changes",
    "upgrade_receipts",
    "payment_methods",
    "drift_records",
    "offline_activations",
    "licenses",
    "upgrade_transitions",
    "upgrades",
    "estimates",
    "seat_ledger",
    "api_tokens",
    "members",
    "discount_codes",
    "catalog_prices",
    "inbox",
    "subscriptions",
    "organizations",
)


@pytest.fixture(autouse=True)
def _no_stripe_call_in_a_transaction() -> Iterator[None]:
    """Every test: no billing gateway call (through the guarded fakes) while a database
    transaction, and so maybe an organization's row lock, was open."""
    from tests.fakes import CALLS_UNDER_LOCK

    CALLS_UNDER_LOCK.clear()
    yield
    calls, CALLS_UNDER_LOCK[:] = list(CALLS_UNDER_LOCK), []
    assert not calls, f"Stripe called while a database transaction was open: {calls}"


def clean(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in TABLES:
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def pg_settings(postgres_url: str, shared_redis: str) -> Iterator[Settings]:
    settings = Settings(
        mode="test",
        database_url=postgres_url,
        broker_url=shared_redis,
        stripe_webhook_secrets=(SECRET, OLD_SECRET),
        queue_name=f"seatflow-test-{secrets.token_hex(4)}",
    )
    engine = make_engine(settings)
    clean(engine)
    yield settings
    engine.dispose()


@event.listens_for(Engine, "connect")
def _sqlite_without_fsync(dbapi_connection: Any, _record: Any) -> None:
    """SQLite files the tests open here are scratch copies: no fsync at every commit. Only a
    power cut could tell the difference; a crashing process cannot. (The processes the tests
    start keep the product's settings.)"""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head, once a run: each test gets a copy of it, the same
    file `migrations.upgrade` makes, without running every migration again per test."""
    path = tmp_path_factory.mktemp("migrated") / "seatflow.sqlite"
    migrations.upgrade(f"sqlite:///{path}")
    # Everything in the main file, nothing left in a write-ahead log, before it is copied.
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture
def sqlite_settings(tmp_path: Path, migrated_sqlite: Path) -> Settings:
    database = tmp_path / "seatflow.sqlite"
    settings = Settings(
        mode="test",
        database_url=f"sqlite:///{database}",
        broker_url="memory://",
        stripe_webhook_secrets=(SECRET, OLD_SECRET),
        queue_name=f"seatflow-test-{secrets.token_hex(4)}",
        data_dir=tmp_path,
    )
    shutil.copyfile(migrated_sqlite, database)
    return settings


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a child process needs to rebuild `settings` with Settings.from_env."""
    from tests.support import service_env

    return service_env(
        SEATFLOW_ENV="development",
        SEATFLOW_DATA_DIR=str(settings.data_dir),
        DATABASE_URL=settings.database_url,
        CELERY_BROKER_URL=settings.broker_url,
        STRIPE_WEBHOOK_SECRETS=",".join(settings.stripe_webhook_secrets),
        SEATFLOW_QUEUE=settings.queue_name,
        **extra,
    )


# The groups of tests in the order a run starts them: the longest first, so that with several
# workers (`make test`: pytest-xdist) the run does not end waiting on one long test started
# last. Within a group, the order of collection.
FIRST = (
    ("tests/soak/",),
    ("tests/e2e/test_dev_server.py",),
    ("tests/e2e/",),
)


def start_group(item: pytest.Item) -> int:
    path = Path(item.path).relative_to(ROOT).as_posix()
    for rank, prefixes in enumerate(FIRST):
        if path.startswith(prefixes):
            return rank
    if item.get_closest_marker("slow"):
        return len(FIRST)
    return len(FIRST) + (0 if path.startswith(("tests/faults/", "tests/integration/")) else 1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=start_group)


@pytest.fixture(autouse=True)
def _unit_tests_start_no_process(request: pytest.FixtureRequest, monkeypatch) -> None:
    """`make check` runs the unit tests not marked `slow` in a minute: a unit test that starts
    a process (a `seatflow` command, gunicorn, promtool; `git`, a few milliseconds, aside) is
    marked `slow`, and this holds it."""
    path = Path(request.node.path).relative_to(ROOT).as_posix()
    if not path.startswith("tests/unit/") or request.node.get_closest_marker("slow"):
        return

    execute_child = subprocess.Popen._execute_child  # type: ignore[attr-defined]

    def refused(popen: subprocess.Popen[Any], args: Any, *rest: Any) -> None:
        if (args if isinstance(args, str) else str(args[0])).split()[0] == "git":
            return execute_child(popen, args, *rest)  # type: ignore[no-any-return]
        raise AssertionError(
            f"a unit test that starts a process is marked `slow` (pytest.mark.slow): {args!r}"
        )

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refused)
