"""Frozen settings built once from the environment.

`Settings.from_env()` is the only reader of `os.environ` in seatflow; everything else
receives a `Settings`. Development defaults need no server (SQLite database, a broker on
SQLite through kombu's SQLAlchemy transport); production mode refuses to start on a
missing or malformed value and names the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from config.inbox import Origin

MODES = ("development", "test", "production")


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names the variable."""


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
    stripe_webhook_secrets: tuple[str, ...] = ()
    stripe_webhook_tolerance: int = 300
    webhook_max_body: int = 512 * 1024
    webhook_commit_wait_ms: int = 1
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
    visibility_timeout_seconds: int = 0  # 0: three times the task time limit
    inbox_retention_days: int = 30
    reconcile_interval_seconds: int = 900
    # Set (by the process launcher) when several processes share one set of metrics.
    metrics_multiproc_dir: str = ""
    worker_metrics_port: int = 9808
    beat_metrics_port: int = 9809
    session_secret: str = "development-only-session-secret"
    unpaid_upgrade_hours: int = 23
    data_dir: Path = field(default_factory=default_data_dir)

    @property
    def production(self) -> bool:
        return self.mode == "production"

    @property
    def livemode(self) -> bool:
        """Stripe's mode, from the API key: sk_live_/rk_live_ live, anything else test."""
        return self.stripe_api_key.startswith(("sk_live_", "rk_live_"))

    @property
    def origin(self) -> Origin:
        return Origin(self.livemode, self.stripe_account or None)

    @property
    def visibility_timeout(self) -> int:
        # A broker redelivers an unacked message after this; it should exceed the longest a
        # task may run, or a slow task is handed to a second worker while running (which is
        # harmless, since processing is idempotent, but wasteful).
        return self.visibility_timeout_seconds or self.task_time_limit * 3

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `env` (default `os.environ`); raise ConfigError on bad input."""
        env = os.environ if env is None else env
        mode = env.get("SEATFLOW_ENV", "development").strip().lower()
        if mode not in MODES:
            raise ConfigError(f"SEATFLOW_ENV must be one of {', '.join(MODES)}, got {mode!r}")
        production = mode == "production"
        data_dir = Path(env.get("SEATFLOW_DATA_DIR", "") or default_data_dir())

        def text(name: str, default: str) -> str:
            value = env.get(name, "").strip()
            if not value and production:
                raise ConfigError(f"{name} is required when SEATFLOW_ENV=production")
            return value or default

        def integer(name: str, default: int, minimum: int = 0) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
            if value < minimum:
                raise ConfigError(f"{name} must be at least {minimum}, got {value}")
            return value

        def flag(name: str) -> bool:
            raw = env.get(name, "").strip().lower()
            if raw in ("", "0", "false", "no", "off"):
                return False
            if raw in ("1", "true", "yes", "on"):
                return True
            raise ConfigError(f"{name} must be true or false, got {raw!r}")

        database_url = normalize_database_url(
            text("DATABASE_URL", f"sqlite:///{data_dir / 'seatflow.sqlite'}")
        )
        if "://" not in database_url:
            raise ConfigError(f"DATABASE_URL is not a URL: {database_url.split('@')[-1]!r}")
        broker_url = text("CELERY_BROKER_URL", f"sqla+sqlite:///{data_dir / 'broker.sqlite'}")
        secrets = tuple(
            s.strip() for s in env.get("STRIPE_WEBHOOK_SECRETS", "").split(",") if s.strip()
        )
        if not secrets:
            if production:
                raise ConfigError("STRIPE_WEBHOOK_SECRETS is required when SEATFLOW_ENV=production")
            secrets = ("whsec_development_only",)
        for secret in secrets:
            if not secret.startswith("whsec_"):
                raise ConfigError("STRIPE_WEBHOOK_SECRETS entries must start with 'whsec_'")
        api_base = env.get("STRIPE_API_BASE", "").strip().rstrip("/")
        if api_base and not api_base.startswith(("http://", "https://")):
            raise ConfigError(f"STRIPE_API_BASE must be an http(s) URL, got {api_base!r}")
        return cls(
            mode=mode,
            database_url=database_url,
            broker_url=broker_url,
            stripe_api_key=text("STRIPE_API_KEY", "sk_test_development_only"),
            stripe_api_base=api_base,
            stripe_account=env.get("STRIPE_ACCOUNT", "").strip(),
            stripe_webhook_secrets=secrets,
            stripe_webhook_tolerance=integer("STRIPE_WEBHOOK_TOLERANCE", 300, minimum=1),
            webhook_max_body=integer("WEBHOOK_MAX_BODY", 512 * 1024, minimum=1024),
            webhook_commit_wait_ms=integer("WEBHOOK_COMMIT_WAIT_MS", 1),
            task_time_limit=integer("TASK_TIME_LIMIT", 120, minimum=1),
            task_max_retries=integer("TASK_MAX_RETRIES", 8),
            sweep_after_seconds=integer("SWEEP_AFTER_SECONDS", 60, minimum=1),
            sweep_interval_seconds=float(integer("SWEEP_INTERVAL_SECONDS", 30, minimum=1)),
            queue_name=env.get("SEATFLOW_QUEUE", "seatflow").strip() or "seatflow",
            estimate_ttl_seconds=integer("ESTIMATE_TTL_SECONDS", 900, minimum=1),
            license_signing_key=text("LICENSE_SIGNING_KEY", ""),
            license_key_file=Path(
                env.get("SEATFLOW_CONFIG_DIR", "")
                or Path(env.get("HOME", "") or Path.home()) / ".config" / "seatflow"
            )
            / "license-signing-key",
            license_grace_days=integer("LICENSE_GRACE_DAYS", 7),
            stripe_verify_by_fetch=flag("STRIPE_VERIFY_BY_FETCH"),
            stripe_read_rate=float(integer("STRIPE_READ_RATE", 20, minimum=1)),
            visibility_timeout_seconds=integer("BROKER_VISIBILITY_TIMEOUT", 0),
            inbox_retention_days=integer("INBOX_RETENTION_DAYS", 30, minimum=1),
            reconcile_interval_seconds=integer("RECONCILE_INTERVAL_SECONDS", 900, minimum=10),
            metrics_multiproc_dir=env.get("PROMETHEUS_MULTIPROC_DIR", "").strip(),
            worker_metrics_port=integer("WORKER_METRICS_PORT", 9808),
            beat_metrics_port=integer("BEAT_METRICS_PORT", 9809),
            session_secret=text("SEATFLOW_SECRET_KEY", "development-only-session-secret"),
            unpaid_upgrade_hours=integer("UNPAID_UPGRADE_HOURS", 23, minimum=1),
            data_dir=data_dir,
        )

    def ensure_data_dir(self) -> None:
        """Create the folder the embedded SQLite files live in, if they are used."""
        if "sqlite" in self.database_url or "sqlite" in self.broker_url:
            self.data_dir.mkdir(parents=True, exist_ok=True)
