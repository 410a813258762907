"""Frozen settings built once from the environment.

`Settings.from_env()` is the only reader of `os.environ` (and, in development, of a `.env`
file) in seatflow; everything else receives a `Settings`. Development defaults need no
server (SQLite database, a broker on SQLite through kombu's SQLAlchemy transport).
Production refuses to start on any missing, malformed, weak or published value, and names
every one of them in one message (never their values).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from config.checks import (
    DEVELOPMENT_API_KEY,
    DEVELOPMENT_SESSION_SECRET,
    broker_problem,
    check_secrets,
    database_problem,
    public_url,
    signing_key,
    webhook_secrets,
)
from config.environment import Reader, with_dotenv


class ConfigError(Exception):
    """Configuration values are missing or malformed; the message names every variable."""

    def report(self) -> str:
        """What a process prints before it exits: the message, each problem on its own
        line (as `from_env` lists them), never a traceback."""
        lines = str(self).splitlines() or [""]
        return "\n".join([f"configuration error: {' '.join(lines[0].split())}", *lines[1:]])


def default_data_dir() -> Path:
    return Path.cwd() / "var"


def normalize_database_url(url: str) -> str:
    """Accept Heroku-style `postgres://` and plain `postgresql://`; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Settings:
    mode: str = "development"
    database_url: str = ""
    broker_url: str = ""
    stripe_api_key: str = ""
    stripe_api_base: str = ""
    stripe_account: str = ""  # a Connect account this service acts for; "": the platform
    allow_test_keys: bool = False  # production on Stripe's test mode (sk_test_/rk_test_)
    stripe_webhook_secrets: tuple[str, ...] = ()
    stripe_webhook_tolerance: int = 300
    webhook_max_body: int = 512 * 1024
    webhook_commit_wait_ms: int = 1
    webhook_publish_interval_ms: int = 50
    task_time_limit: int = 120
    task_max_retries: int = 8
    sweep_after_seconds: int = 60
    sweep_interval_seconds: float = 30.0
    queue_name: str = "seatflow"
    estimate_ttl_seconds: int = 900
    license_signing_key: str = ""
    license_key_file: Path = field(default_factory=lambda: Path.home() / ".config/seatflow/key")
    license_grace_days: int = 7
    stripe_verify_by_fetch: bool = False
    stripe_read_rate: float = 20.0
    # Where the Stripe read budget shared by all processes lives (a Redis URL); empty: the
    # broker's Redis if the broker is Redis, else each process keeps its own.
    stripe_read_budget_url: str = ""
    visibility_timeout_seconds: int = 0  # 0: three times the task time limit
    inbox_retention_days: int = 30
    offline_released_retention_days: int = 90
    reconcile_interval_seconds: int = 900
    # Set (by the process launcher) when several processes share one set of metrics.
    metrics_multiproc_dir: str = ""
    # Set by `seatflow dev` for the processes it starts: it gives the development warning once.
    dev_child: bool = False
    worker_metrics_port: int = 9808
    worker_metrics_host: str = "127.0.0.1"  # the worker's and the beat's listeners
    web_metrics_public: bool = True  # False: no /metrics on the web apps' own port
    web_metrics_port: int = 0  # a private listener of the gunicorn master (0: none)
    web_metrics_host: str = "127.0.0.1"
    # Each gunicorn worker keeps to one CPU (config/cpus.py); None: when there are at least
    # as many workers as CPUs.
    web_pin_cpus: bool | None = None
    beat_metrics_port: int = 9809
    session_secret: str = DEVELOPMENT_SESSION_SECRET
    unpaid_upgrade_hours: int = 23
    # Where "Update payment method" sends people: Stripe Checkout (setup mode) or the portal.
    payment_method_update: str = "checkout"
    data_dir: Path = field(default_factory=default_data_dir)
    trusted_hosts: tuple[str, ...] = ()  # empty: any Host header is answered
    # Where customers reach the pages ("https://billing.example.com"): the addresses Stripe
    # sends them back to are built on it, never on a request's Host header. "": development
    # answers a loopback or trusted host with its own address.
    public_url: str = ""
    # Proxies in front whose X-Forwarded-For and X-Forwarded-Proto are believed (1 behind
    # deploy/nginx); 0: those headers are ignored, as anyone may send them.
    trusted_proxies: int = 0

    @property
    def production(self) -> bool:
        return self.mode == "production"

    @property
    def livemode(self) -> bool:
        """Stripe's mode, from the API key: sk_live_/rk_live_ live, anything else test."""
        return self.stripe_api_key.startswith(("sk_live_", "rk_live_"))

    @property
    def read_budget_url(self) -> str | None:
        """The Redis holding the Stripe read budget of every process, if there is one."""
        url = self.stripe_read_budget_url or self.broker_url
        return url if url.startswith(("redis://", "rediss://")) else None

    @property
    def visibility_timeout(self) -> int:
        # A broker redelivers an unacked message after this; it should exceed the longest a
        # task may run, or a slow task is handed to a second worker while running (which is
        # harmless, since processing is idempotent, but wasteful).
        return self.visibility_timeout_seconds or self.task_time_limit * 3

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        """Build settings from `env` (default `os.environ`, with `./.env` under it in
        development); raise one ConfigError listing every problem found."""
        if env is None:
            env, dotenv = os.environ, dotenv or Path.cwd() / ".env"
        env, refused = with_dotenv(env, dotenv)
        r = Reader(env)
        r.problem(refused)
        settings = cls._read(r)
        if r.production:
            check_secrets(settings, r)
        if r.problems:
            raise ConfigError(
                f"seatflow cannot start: {len(r.problems)} problem(s) in its configuration "
                f"(SEATFLOW_ENV={r.mode}):" + "".join(f"\n  - {p}" for p in r.problems)
            )
        return settings

    @classmethod
    def _read(cls, r: Reader) -> Settings:
        data_dir = Path(r.raw("SEATFLOW_DATA_DIR") or default_data_dir())
        database_url = normalize_database_url(
            r.text("DATABASE_URL", f"sqlite:///{data_dir / 'seatflow.sqlite'}")
        )
        broker_url = r.text("CELERY_BROKER_URL", f"sqla+sqlite:///{data_dir / 'broker.sqlite'}")
        # In production a missing one is a problem already, and its default is none.
        if r.raw("DATABASE_URL") or not r.production:
            r.problem(database_problem(database_url))
        if r.raw("CELERY_BROKER_URL") or not r.production:
            r.problem(broker_problem(broker_url, r.production))
        api_base = r.raw("STRIPE_API_BASE").rstrip("/")
        if api_base and not api_base.startswith(("http://", "https://")):
            r.problem(f"STRIPE_API_BASE must be an http(s) URL, got {api_base!r}")
        return cls(
            mode=r.mode,
            database_url=database_url,
            broker_url=broker_url,
            stripe_api_key=r.text("STRIPE_API_KEY", DEVELOPMENT_API_KEY),
            stripe_api_base=api_base,
            stripe_account=r.raw("STRIPE_ACCOUNT"),
            allow_test_keys=r.flag("SEATFLOW_ALLOW_TEST_KEYS"),
            stripe_webhook_secrets=webhook_secrets(r),
            stripe_webhook_tolerance=r.integer("STRIPE_WEBHOOK_TOLERANCE", 300, minimum=1),
            webhook_max_body=r.integer("WEBHOOK_MAX_BODY", 512 * 1024, minimum=1024),
            webhook_commit_wait_ms=r.integer("WEBHOOK_COMMIT_WAIT_MS", 1),
            webhook_publish_interval_ms=r.integer("WEBHOOK_PUBLISH_INTERVAL_MS", 50),
            task_time_limit=r.integer("TASK_TIME_LIMIT", 120, minimum=1),
            task_max_retries=r.integer("TASK_MAX_RETRIES", 8),
            sweep_after_seconds=r.integer("SWEEP_AFTER_SECONDS", 60, minimum=1),
            sweep_interval_seconds=float(r.integer("SWEEP_INTERVAL_SECONDS", 30, minimum=1)),
            queue_name=r.raw("SEATFLOW_QUEUE") or "seatflow",
            estimate_ttl_seconds=r.integer("ESTIMATE_TTL_SECONDS", 900, minimum=1),
            license_signing_key=signing_key(r),
            license_key_file=Path(
                r.raw("SEATFLOW_CONFIG_DIR")
                or Path(r.raw("HOME") or Path.home()) / ".config" / "seatflow"
            )
            / "license-signing-key",
            license_grace_days=r.integer("LICENSE_GRACE_DAYS", 7),
            stripe_verify_by_fetch=r.flag("STRIPE_VERIFY_BY_FETCH"),
            stripe_read_rate=float(r.integer("STRIPE_READ_RATE", 20, minimum=1)),
            stripe_read_budget_url=r.raw("STRIPE_READ_BUDGET_URL"),
            visibility_timeout_seconds=r.integer("BROKER_VISIBILITY_TIMEOUT", 0),
            inbox_retention_days=r.integer("INBOX_RETENTION_DAYS", 30, minimum=1),
            offline_released_retention_days=r.integer(
                "OFFLINE_RELEASED_RETENTION_DAYS", 90, minimum=1
            ),
            reconcile_interval_seconds=r.integer("RECONCILE_INTERVAL_SECONDS", 900, minimum=10),
            metrics_multiproc_dir=r.raw("PROMETHEUS_MULTIPROC_DIR"),
            dev_child=r.flag("SEATFLOW_DEV_CHILD"),
            worker_metrics_port=r.integer("WORKER_METRICS_PORT", 9808),
            worker_metrics_host=r.raw("WORKER_METRICS_HOST") or "127.0.0.1",
            web_metrics_public=r.flag("WEB_METRICS_PUBLIC", default=not r.production),
            web_metrics_port=r.integer("WEB_METRICS_PORT", 0),
            web_metrics_host=r.raw("WEB_METRICS_HOST") or "127.0.0.1",
            web_pin_cpus=r.flag_or_auto("WEB_PIN_CPUS"),
            beat_metrics_port=r.integer("BEAT_METRICS_PORT", 9809),
            session_secret=r.text("SEATFLOW_SECRET_KEY", DEVELOPMENT_SESSION_SECRET),
            unpaid_upgrade_hours=r.integer("UNPAID_UPGRADE_HOURS", 23, minimum=1),
            payment_method_update=r.choice("PAYMENT_METHOD_UPDATE", ("checkout", "portal")),
            data_dir=data_dir,
            trusted_hosts=tuple(  # host names are compared without regard to case
                h.strip().lower() for h in r.raw("SEATFLOW_TRUSTED_HOSTS").split(",") if h.strip()
            ),
            public_url=public_url(r),
            trusted_proxies=r.integer("SEATFLOW_TRUSTED_PROXIES", 0),
        )

    def ensure_data_dir(self) -> None:
        """Create the folder the embedded SQLite files live in, if they are used."""
        if "sqlite" in self.database_url or "sqlite" in self.broker_url:
            self.data_dir.mkdir(parents=True, exist_ok=True)
