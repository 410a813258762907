"""Start-up checks: every missing, malformed, weak or public value is reported at once, in
one message; development says so loudly; a `.env` file is read in development only."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from config.logging import configure_logging, warn_at_start
from config.settings import ConfigError, Settings
from tests.unit.config.test_settings import PRODUCTION

SECRETS = (
    "STRIPE_API_KEY",
    "STRIPE_WEBHOOK_SECRETS",
    "LICENSE_SIGNING_KEY",
    "SEATFLOW_SECRET_KEY",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
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
    env = {**PRODUCTION, "STRIPE_API_KEY": "sk_test_" + "k" * 40}
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
