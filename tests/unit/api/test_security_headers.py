"""The pages and the org API answer with security headers, run no inline script, and
answer only to the configured host names."""

from __future__ import annotations

import re

import pytest

from adapters.license_signer import new_private_key_b64
from api import create_app
from config.settings import Settings
from tests.support import ROOT


@pytest.fixture
def client(sqlite_settings):
    return create_app(sqlite_settings).test_client()


@pytest.mark.parametrize("path", ["/signin", "/api/v1/organizations/org_x/subscriptions"])
def test_pages_and_api_send_security_headers(client, path) -> None:
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers  # plain HTTP in development


def test_production_adds_hsts(sqlite_settings) -> None:
    settings = sqlite_settings.with_overrides(
        mode="production",
        license_signing_key=new_private_key_b64(),
        broker_url="redis://127.0.0.1:6379/0",  # production has no in-memory broker
    )
    headers = create_app(settings).test_client().get("/signin").headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_templates_and_script_need_no_inline_script_or_style() -> None:
    for path in (ROOT / "api" / "templates").glob("*.html"):
        html = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "style=" not in html and "<style" not in html, path
    script = (ROOT / "api" / "static" / "app.js").read_text()
    assert "style=" not in script and "eval(" not in script


def test_only_trusted_hosts_are_answered(sqlite_settings) -> None:
    settings = sqlite_settings.with_overrides(trusted_hosts=("seatflow.example",))
    client = create_app(settings).test_client()
    assert client.get("/healthz", headers={"Host": "seatflow.example"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400


def test_trusted_hosts_are_read_from_the_environment() -> None:
    env = {"SEATFLOW_TRUSTED_HOSTS": "seatflow.example, .seatflow.example ,"}
    assert Settings.from_env(env).trusted_hosts == ("seatflow.example", ".seatflow.example")


def test_forms_may_be_answered_with_a_redirect_to_stripes_hosted_pages_only() -> None:
    from api.security import policy
    from config.settings import Settings

    form_action = next(
        d for d in policy(Settings()).split("; ") if d.startswith("form-action")
    ).split()[1:]
    assert form_action == ["'self'", "https://checkout.stripe.com", "https://billing.stripe.com"]
    fake = policy(Settings(stripe_api_base="http://127.0.0.1:4567"))
    assert "form-action 'self' https://checkout.stripe.com https://billing.stripe.com " in fake
    assert fake.split("form-action")[1].split(";")[0].endswith("http://127.0.0.1:4567")


def test_trusted_host_names_compare_without_regard_to_case(sqlite_settings) -> None:
    settings = sqlite_settings.with_overrides(trusted_hosts=("Seatflow.Example",))
    client = create_app(settings).test_client()
    assert client.get("/healthz", headers={"Host": "SEATFLOW.example"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "seatflow.example:8443"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400
    env = {"SEATFLOW_TRUSTED_HOSTS": "Seatflow.EXAMPLE"}
    assert Settings.from_env(env).trusted_hosts == ("seatflow.example",)
