import pytest

from config.settings import ConfigError, Settings

# Random values, as a production configuration has them (weak ones are refused).
WEBHOOK_SECRET = "whsec_Xq7Lm2Rt9Vb4Nz8Kp3Wc6Hy1Jd5Fg0Se"
WEBHOOK_SECRET_NEXT = "whsec_b8GfT2kLq9ZmR4xV7nC1pW6sJ3hD0yEa"
PRODUCTION = {
    "SEATFLOW_ENV": "production",
    "DATABASE_URL": "postgres://u:p@db:5432/seatflow",
    "CELERY_BROKER_URL": "redis://redis:6379/0",
    "STRIPE_API_KEY": "sk_live_51Hx2fakeLiveKeyForTestsOnly0123456789",
    "STRIPE_WEBHOOK_SECRETS": f"{WEBHOOK_SECRET}, {WEBHOOK_SECRET_NEXT}",
    "LICENSE_SIGNING_KEY": "q3TtvlRFD1KPwbFV2ajPRo3+tGFmnNDdHkIwNSWzxwM=",
    "SEATFLOW_SECRET_KEY": "3f9c1e7a5b2d8f4e6a0c9b1d7e3f5a2c",
    "SEATFLOW_PUBLIC_URL": "https://billing.example.com",
}


def test_development_defaults_need_no_server(tmp_path) -> None:
    settings = Settings.from_env({"SEATFLOW_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'seatflow.sqlite'}"
    assert settings.broker_url == f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    assert settings.stripe_webhook_tolerance == 300
    assert settings.webhook_max_body == 512 * 1024


@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://"])
def test_both_postgres_url_schemes_use_psycopg3(scheme: str) -> None:
    settings = Settings.from_env({**PRODUCTION, "DATABASE_URL": scheme + "u:p@db/s"})
    assert settings.database_url == "postgresql+psycopg://u:p@db/s"


def test_rotating_secrets_are_split_and_trimmed() -> None:
    assert Settings.from_env(PRODUCTION).stripe_webhook_secrets == (
        WEBHOOK_SECRET,
        WEBHOOK_SECRET_NEXT,
    )


@pytest.mark.parametrize(
    "name",
    [
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "STRIPE_API_KEY",
        "STRIPE_WEBHOOK_SECRETS",
        "LICENSE_SIGNING_KEY",
        "SEATFLOW_SECRET_KEY",
    ],
)
def test_production_names_each_missing_variable(name: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != name}
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(env)


@pytest.mark.parametrize(
    "name, value",
    [
        ("STRIPE_WEBHOOK_TOLERANCE", "five"),
        ("STRIPE_WEBHOOK_TOLERANCE", "0"),
        ("WEBHOOK_MAX_BODY", "1e6"),
        ("STRIPE_API_BASE", "ftp://x"),
        ("STRIPE_WEBHOOK_SECRETS", "not_a_whsec"),
        ("SEATFLOW_ENV", "staging"),
    ],
)
def test_malformed_values_are_a_clear_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({**PRODUCTION, name: value})


def test_settings_are_frozen() -> None:
    settings = Settings.from_env(PRODUCTION)
    with pytest.raises(AttributeError):
        settings.mode = "development"  # type: ignore[misc]


def test_the_card_update_goes_to_checkout_unless_the_portal_is_chosen() -> None:
    assert Settings.from_env({}).payment_method_update == "checkout"
    assert Settings.from_env({"PAYMENT_METHOD_UPDATE": "Portal"}).payment_method_update == "portal"
    with pytest.raises(ConfigError, match="PAYMENT_METHOD_UPDATE"):
        Settings.from_env({"PAYMENT_METHOD_UPDATE": "elements"})


def test_production_needs_the_https_address_of_the_pages() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "SEATFLOW_PUBLIC_URL"}
    with pytest.raises(ConfigError, match="SEATFLOW_PUBLIC_URL is required"):
        Settings.from_env(env)
    with pytest.raises(ConfigError, match="SEATFLOW_PUBLIC_URL must be an https://"):
        Settings.from_env({**PRODUCTION, "SEATFLOW_PUBLIC_URL": "http://billing.example.com"})
    with pytest.raises(ConfigError, match="SEATFLOW_PUBLIC_URL"):
        Settings.from_env({**PRODUCTION, "SEATFLOW_PUBLIC_URL": "https://b.example.com/x?y"})
    read = Settings.from_env({**PRODUCTION, "SEATFLOW_PUBLIC_URL": "https://B.example.com/"})
    assert read.public_url == "https://b.example.com"


def test_the_trusted_proxies_are_counted() -> None:
    assert Settings.from_env({}).trusted_proxies == 0
    assert Settings.from_env({"SEATFLOW_TRUSTED_PROXIES": "1"}).trusted_proxies == 1
    with pytest.raises(ConfigError, match="SEATFLOW_TRUSTED_PROXIES"):
        Settings.from_env({"SEATFLOW_TRUSTED_PROXIES": "-1"})
