"""Start-up checks: every missing, malformed, weak or public value is reported at once, in
one message; development says so loudly; a `.env` file is read in development only."""

from __future__ import annotations

import base64
import re
import secrets
from pathlib import Path
from typing import Any

import pytest

from config.logging import configure_logging, warn_at_start
from config.settings import ConfigError, Settings
from tests.unit.config.test_settings import PRODUCTION, WEBHOOK_SECRET

SECRETS = (
    "STRIPE_API_KEY",
    "STRIPE_WEBHOOK_SECRETS",
    "LICENSE_SIGNING_KEY",
    "SEATFLOW_SECRET_KEY",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "SEATFLOW_PUBLIC_URL",
)


def problems(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    return str(caught.value)


def test_production_with_every_secret_missing_names_them_all_in_one_message() -> None:
    message = problems({"SEATFLOW_ENV": "production", "STRIPE_WEBHOOK_TOLERANCE": "five"})
    for name in (*SECRETS, "STRIPE_WEBHOOK_TOLERANCE"):
        assert name in message
    assert message.count("\n  - ") == len(SECRETS) + 1


@pytest.mark.parametrize(
    "name, value, why",
    [
        ("STRIPE_WEBHOOK_SECRETS", "whsec_", "too short"),
        ("STRIPE_WEBHOOK_SECRETS", "whsec_development_only", "development value"),
        ("STRIPE_WEBHOOK_SECRETS", "whsec_" + "a" * 32 + ",whsec_x", "too short"),
        ("SEATFLOW_SECRET_KEY", "x", "too short"),
        ("SEATFLOW_SECRET_KEY", "development-only-session-secret", "development value"),
        ("STRIPE_API_KEY", "sk_test_development_only", "development value"),
        ("STRIPE_API_KEY", "sk_test_" + "k" * 40, "SEATFLOW_ALLOW_TEST_KEYS"),
        ("STRIPE_API_KEY", "rk_test_" + "k" * 40, "SEATFLOW_ALLOW_TEST_KEYS"),
        ("STRIPE_API_KEY", "pk_live_" + "k" * 40, "sk_live_"),
        ("LICENSE_SIGNING_KEY", "bm90LWNoZWNrZWQtaGVyZQ==", "32-byte"),
    ],
)
def test_weak_or_public_secrets_are_refused_in_production(name: str, value: str, why: str) -> None:
    message = problems({**PRODUCTION, name: value})
    assert re.search(rf"{name}.*{re.escape(why)}", message), message


def test_a_test_key_is_accepted_in_production_when_explicitly_allowed() -> None:
    env = {**PRODUCTION, "STRIPE_API_KEY": "sk_test_51Hx2fakeTestKeyForTestsOnly9876543210"}
    settings = Settings.from_env({**env, "SEATFLOW_ALLOW_TEST_KEYS": "true"})
    assert settings.livemode is False


def test_the_message_never_repeats_a_secret_value() -> None:
    weak = "whsec_leakme"
    assert weak not in problems({**PRODUCTION, "STRIPE_WEBHOOK_SECRETS": weak})


def test_development_mode_says_so_at_start(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings.from_env({})
    configure_logging(settings)
    warn_at_start(settings)
    err = capsys.readouterr().err
    assert "DEVELOPMENT MODE" in err
    assert "SEATFLOW_ENV" in err


def test_the_processes_seatflow_dev_starts_leave_the_warning_to_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings.from_env({"SEATFLOW_DEV_CHILD": "true"})
    configure_logging(settings)
    warn_at_start(settings)
    assert "DEVELOPMENT MODE" not in capsys.readouterr().err


def test_production_does_not_warn_of_development(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings.from_env(PRODUCTION)
    configure_logging(settings)
    warn_at_start(settings)
    assert "DEVELOPMENT MODE" not in capsys.readouterr().err


def test_a_dotenv_file_is_read_in_development_and_the_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# a comment\n"
        "export SEATFLOW_QUEUE=from_file\n"
        "STRIPE_WEBHOOK_TOLERANCE='120'\n"
        'STRIPE_ACCOUNT="acct_file"  # trailing\n'
        "\n"
    )
    settings = Settings.from_env({"STRIPE_ACCOUNT": "acct_env"}, dotenv=dotenv)
    assert settings.queue_name == "from_file"
    assert settings.stripe_webhook_tolerance == 120
    assert settings.stripe_account == "acct_env"


def test_a_dotenv_file_is_not_read_in_production(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("SEATFLOW_QUEUE=from_file\n")
    assert Settings.from_env(PRODUCTION, dotenv=dotenv).queue_name == "seatflow"


class Recording(dict[str, str]):
    """An environment that notes every variable asked for."""

    def __init__(self, values: dict[str, str], seen: set[str]) -> None:
        super().__init__(values)
        self.seen = seen

    def get(self, key: str, default: Any = None) -> Any:
        self.seen.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.seen.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.seen.add(str(key))
        return super().__contains__(key)


def test_env_example_lists_exactly_the_variables_settings_reads() -> None:
    seen: set[str] = set()
    Settings.from_env(Recording({}, seen))
    Settings.from_env(Recording(PRODUCTION, seen))
    example = (Path(__file__).parents[3] / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert listed == seen


LIVE_DOTENV = (
    "SEATFLOW_ENV=production\n"
    "STRIPE_API_KEY=sk_live_51Hx2fromTheFileNotTheEnvironment0123\n"
    "SEATFLOW_QUEUE=from_file\n"
)


@pytest.mark.parametrize("mode", ["production", "test", "Production"])
def test_a_dotenv_file_that_names_another_mode_is_refused_not_read(
    tmp_path: Path, mode: str
) -> None:
    """Whether `.env` is read is decided by the environment alone: a file saying production
    is not production's configuration, and development does not take its live keys either."""
    dotenv = tmp_path / ".env"
    dotenv.write_text(LIVE_DOTENV.replace("production", mode))
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({}, dotenv=dotenv)
    message = str(caught.value)
    assert "SEATFLOW_ENV" in message and ".env" in message
    assert "sk_live_51Hx2" not in message
    assert "(SEATFLOW_ENV=development)" in message


def test_a_dotenv_file_is_not_read_when_the_environment_says_production(
    tmp_path: Path,
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(LIVE_DOTENV)
    env = {k: v for k, v in PRODUCTION.items() if k != "STRIPE_API_KEY"}
    assert "STRIPE_API_KEY is required" in problems_with(env, dotenv)


def problems_with(env: dict[str, str], dotenv: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env, dotenv=dotenv)
    return str(caught.value)


ZERO_KEY = base64.b64encode(bytes(32)).decode()
COUNTING_KEY = base64.b64encode(bytes(range(32))).decode()
PATTERN_KEY = base64.b64encode(b"0123456789abcdef" * 2).decode()


@pytest.mark.parametrize(
    "name, value, why",
    [
        ("LICENSE_SIGNING_KEY", ZERO_KEY, "weak"),
        ("LICENSE_SIGNING_KEY", COUNTING_KEY, "weak"),
        ("LICENSE_SIGNING_KEY", PATTERN_KEY, "weak"),
        ("SEATFLOW_SECRET_KEY", "x" * 32, "weak"),
        ("SEATFLOW_SECRET_KEY", "ab" * 24, "weak"),
        ("SEATFLOW_SECRET_KEY", "Summer2024!" * 3, "weak"),
        ("SEATFLOW_SECRET_KEY", "development-only-session-secret!", "development value"),
        ("SEATFLOW_SECRET_KEY", "x7Q" + "DEVELOPMENT_ONLY_session_secret", "development value"),
        ("STRIPE_WEBHOOK_SECRETS", "whsec_aaaaaaaaaaaaaaaa", "weak"),
        ("STRIPE_WEBHOOK_SECRETS", "whsec_" + "a" * 32, "weak"),
        ("STRIPE_WEBHOOK_SECRETS", "whsec_0123456789abcdef", "weak"),
        ("STRIPE_WEBHOOK_SECRETS", "whsec_development_only_2026", "development value"),
        ("STRIPE_API_KEY", "sk_live_" + "k" * 40, "weak"),
        ("STRIPE_API_KEY", "sk_live_development_only_x", "development value"),
    ],
)
def test_low_entropy_or_published_secrets_are_refused_in_production(
    name: str, value: str, why: str
) -> None:
    message = problems({**PRODUCTION, name: value})
    assert re.search(rf"{name}.*{re.escape(why)}", message), message
    assert value not in message and value.removeprefix("whsec_") not in message


def test_a_weak_entry_among_the_webhook_secrets_is_named_by_its_place() -> None:
    env = {**PRODUCTION, "STRIPE_WEBHOOK_SECRETS": f"{WEBHOOK_SECRET},whsec_{'c' * 32}"}
    assert "STRIPE_WEBHOOK_SECRETS entry 2 is weak" in problems(env)


@pytest.mark.parametrize("make", [secrets.token_hex, secrets.token_urlsafe])
def test_random_secrets_are_accepted(make: Any) -> None:
    for _ in range(200):
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        env = {
            **PRODUCTION,
            "SEATFLOW_SECRET_KEY": make(16 if make is secrets.token_hex else 32),
            "STRIPE_WEBHOOK_SECRETS": "whsec_" + secrets.token_hex(8),  # the shortest allowed
            "STRIPE_API_KEY": "sk_live_" + secrets.token_urlsafe(18),
            "LICENSE_SIGNING_KEY": key,
        }
        Settings.from_env(env)


@pytest.mark.parametrize(
    "url", ["memory://", "sqla+sqlite:////var/lib/seatflow/broker.sqlite", "kafka://k:9092"]
)
def test_production_sends_tasks_through_redis_or_rabbitmq_only(url: str) -> None:
    message = problems({**PRODUCTION, "CELERY_BROKER_URL": url})
    assert "CELERY_BROKER_URL" in message
    assert "Redis or RabbitMQ" in message


@pytest.mark.parametrize("url", ["redis://r:6379/0", "rediss://r:6380/0", "amqp://u:p@mq//"])
def test_production_accepts_redis_and_rabbitmq_brokers(url: str) -> None:
    assert Settings.from_env({**PRODUCTION, "CELERY_BROKER_URL": url}).broker_url == url


def test_the_test_mode_is_not_taken_from_the_environment() -> None:
    """`test` is the test suite's mode (it runs on the published secrets and says nothing of
    it): a process told SEATFLOW_ENV=test refuses to start rather than run on them."""
    message = problems({"SEATFLOW_ENV": "test"})
    assert "SEATFLOW_ENV=test" in message
    assert "development or production" in message


def test_every_problem_is_found_in_one_pass() -> None:
    """A database of another kind is named beside a malformed number, not after it is fixed."""
    message = problems(
        {
            "DATABASE_URL": "mysql://u@db/seatflow",
            "STRIPE_WEBHOOK_TOLERANCE": "-1",
            "CELERY_BROKER_URL": "kafka://k:9092",
        }
    )
    assert "3 problem(s)" in message
    for name in ("DATABASE_URL", "STRIPE_WEBHOOK_TOLERANCE", "CELERY_BROKER_URL"):
        assert f"\n  - {name}" in message, message
