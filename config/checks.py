"""Checks of values whose problems are more than a malformed number: the secrets (one rule
for all, config/secret_strength.py), the signing key, the pages' public address, and the
kinds of database and broker. Each notes its problems on the reader; none repeats a secret."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from config.environment import Reader
from config.secret_strength import weakness

if TYPE_CHECKING:
    from config.settings import Settings

# Published with seatflow, so never secret: refused in production.
DEVELOPMENT_API_KEY = "sk_test_development_only"
DEVELOPMENT_WEBHOOK_SECRET = "whsec_development_only"
DEVELOPMENT_SESSION_SECRET = "development-only-session-secret"
PUBLISHED = frozenset({DEVELOPMENT_API_KEY, DEVELOPMENT_WEBHOOK_SECRET, DEVELOPMENT_SESSION_SECRET})
MIN_WEBHOOK_SECRET = 16  # characters after whsec_ (Stripe's have 32)
MIN_SESSION_SECRET = 32
MIN_API_KEY = 24  # characters after sk_live_ and the like (Stripe's have 24 or more)
SESSION_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
WEBHOOK_HINT = "the endpoint's signing secret (Stripe Dashboard, or seatflow stripe setup-webhook)"
API_KEY_HINT = "a key from the Stripe Dashboard (Developers, API keys)"
SIGNING_KEY_HINT = "seatflow license keygen"
# The brokers seatflow is tested on (memory:// only inside a test process); production
# sends through Redis or RabbitMQ alone.
BROKER_SCHEMES = ("redis", "rediss", "amqp", "amqps", "pyamqp", "sqla+sqlite", "memory")
PRODUCTION_BROKER_SCHEMES = ("redis", "rediss", "amqp", "amqps", "pyamqp")
DATABASE_SCHEMES = ("sqlite", "postgresql")


def webhook_secrets(r: Reader) -> tuple[str, ...]:
    secrets = tuple(s.strip() for s in r.raw("STRIPE_WEBHOOK_SECRETS").split(",") if s.strip())
    if not secrets and r.production:
        r.problem("STRIPE_WEBHOOK_SECRETS is required when SEATFLOW_ENV=production")
    if any(not secret.startswith("whsec_") for secret in secrets):
        r.problem("STRIPE_WEBHOOK_SECRETS entries must start with 'whsec_'")
    return secrets or (DEVELOPMENT_WEBHOOK_SECRET,)


def check_secrets(settings: Settings, r: Reader) -> None:
    """Production only: no secret may be weak or published (config/secret_strength.py, one
    rule for all), nor (unless allowed) for Stripe's test mode. Only what is configured is
    checked; a missing one is already a problem."""
    entries = settings.stripe_webhook_secrets if r.raw("STRIPE_WEBHOOK_SECRETS") else ()
    for place, secret in enumerate(entries, start=1):
        label = "STRIPE_WEBHOOK_SECRETS" + (f" entry {place}" if len(entries) > 1 else "")
        after = secret.removeprefix("whsec_")
        _strength(r, label, after, MIN_WEBHOOK_SECRET, "characters after whsec_", WEBHOOK_HINT)
    if session := r.raw("SEATFLOW_SECRET_KEY"):
        _strength(r, "SEATFLOW_SECRET_KEY", session, MIN_SESSION_SECRET, hint=SESSION_HINT)
    key = r.raw("STRIPE_API_KEY")
    if not key:
        return
    if not key.startswith(("sk_live_", "rk_live_", "sk_test_", "rk_test_")):
        r.problem("STRIPE_API_KEY must be a secret or restricted key (sk_live_… or rk_live_…)")
        return
    if not settings.livemode and not settings.allow_test_keys:
        r.problem(
            "STRIPE_API_KEY is a test-mode key; set SEATFLOW_ALLOW_TEST_KEYS=true to run "
            "production against Stripe's test mode"
        )
    after = key.split("_", 2)[2]
    _strength(r, "STRIPE_API_KEY", after, MIN_API_KEY, "characters after its prefix", API_KEY_HINT)


def _strength(
    r: Reader,
    label: str,
    value: str | bytes,
    minimum: int,
    unit: str = "characters",
    hint: str = "",
) -> None:
    why = weakness(value, minimum, PUBLISHED, unit)
    if why:
        r.problem(f"{label} {why}" + (f"; hint: {hint}" if hint and "short" not in why else ""))


def signing_key(r: Reader) -> str:
    """LICENSE_SIGNING_KEY, checked in every mode where set: 32 bytes, and in production
    not weak."""
    value = r.text("LICENSE_SIGNING_KEY", "")
    if not value:
        return value
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        r.problem("LICENSE_SIGNING_KEY must be a base64 raw 32-byte Ed25519 private key")
    elif r.production:
        _strength(r, "LICENSE_SIGNING_KEY", raw, 32, "bytes", SIGNING_KEY_HINT)
    return value


def public_url(r: Reader) -> str:
    """SEATFLOW_PUBLIC_URL: scheme and host only (https:// in production, whose pages are
    served over TLS: their cookie is Secure and HSTS is sent)."""
    value = r.text("SEATFLOW_PUBLIC_URL", "").rstrip("/")
    scheme, sep, rest = value.partition("://")
    if not value:
        return ""
    if not sep or scheme.lower() not in ("http", "https") or not rest or set(rest) & set("/?#@"):
        r.problem(
            "SEATFLOW_PUBLIC_URL must be the scheme and host the pages are reached at, "
            "like https://billing.example.com (no path)"
        )
    elif r.production and scheme.lower() != "https":
        r.problem("SEATFLOW_PUBLIC_URL must be an https:// address in production")
    return f"{scheme.lower()}://{rest.lower()}"


def broker_problem(url: str, production: bool) -> str:
    """Why CELERY_BROKER_URL cannot be used (in this mode), or ""."""
    scheme = url.partition("://")[0]
    if production and scheme not in PRODUCTION_BROKER_SCHEMES:
        return (
            f"CELERY_BROKER_URL: production sends its tasks through Redis or RabbitMQ, not "
            f"{scheme!r}; hint: use redis://host:6379/0 or amqp://user:password@host//"
        )
    if scheme not in BROKER_SCHEMES:
        return (
            f"CELERY_BROKER_URL: seatflow sends its tasks through Redis, RabbitMQ or SQLite, "
            f"not {scheme!r}; hint: use redis://host:6379/0 or amqp://user:password@host// "
            "(production), sqla+sqlite:///path (development)"
        )
    return ""


def database_problem(url: str) -> str:
    """Why DATABASE_URL cannot be used, or ""."""
    if "://" not in url:
        return f"DATABASE_URL is not a URL: {url.split('@')[-1]!r}"
    scheme = url.partition(":")[0]
    if scheme.partition("+")[0] not in DATABASE_SCHEMES:
        return (
            f"DATABASE_URL: seatflow stores its data in PostgreSQL or SQLite, not {scheme!r}; "
            "hint: use postgresql://user@host/db or sqlite:///path"
        )
    return ""
