"""Health, readiness, request ids and metrics of the web processes."""

from __future__ import annotations

from cli import samples
from tests.conftest import SECRET
from webhooks import create_app


def _post(client, event, secret=SECRET):
    body, headers = samples.signed(event, secret)
    return client.post("/webhooks/stripe", data=body, headers=headers)


def test_metrics_count_deliveries_rejections_and_signatures(sqlite_settings) -> None:
    app = create_app(sqlite_settings)
    client = app.test_client()
    event = samples.event(
        "customer.subscription.updated", samples.subscription_object(customer="cus_m")
    )
    _post(client, event)
    _post(client, event)
    _post(client, samples.event("charge.succeeded", {"id": "ch_1"}))
    _post(client, event, secret="whsec_wrong")
    client.post("/webhooks/stripe", data=b"x", content_type="text/plain")
    text = client.get("/metrics").get_data(as_text=True)

    def value(line: str) -> float:
        found = [row for row in text.splitlines() if row.startswith(line + " ")]
        assert found, f"{line} not in /metrics"
        return float(found[0].rsplit(" ", 1)[1])

    kind = 'type="customer.subscription.updated"'
    assert value(f'seatflow_webhooks_received_total{{outcome="stored",{kind}}}') >= 1
    assert value(f'seatflow_webhooks_received_total{{outcome="duplicate",{kind}}}') >= 1
    assert value('seatflow_webhooks_received_total{outcome="ignored",type="charge.succeeded"}') >= 1
    assert value('seatflow_webhooks_rejected_total{reason="signature_mismatch"}') >= 1
    assert value('seatflow_webhooks_rejected_total{reason="content_type"}') >= 1
    assert value('seatflow_webhook_signature_checks_total{result="match",secret_index="0"}') >= 3
    assert value('seatflow_webhook_signature_checks_total{result="mismatch",secret_index="1"}') >= 1


def test_readiness_checks_database_schema_and_broker(sqlite_settings, tmp_path) -> None:
    client = create_app(sqlite_settings).test_client()
    assert client.get("/readyz").json == {"status": "ready"}
    broken = sqlite_settings.with_overrides(
        broker_url="redis://127.0.0.1:1/0", database_url=f"sqlite:///{tmp_path}/none/x.db"
    )
    answer = create_app(broken).test_client().get("/readyz")
    assert answer.status_code == 503
    assert "database unreachable" in answer.json["database"]
    assert "broker unreachable" in answer.json["broker"]
    assert client.get("/healthz").json == {"status": "ok"}


def test_the_schema_revision_the_app_expects_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    import migrations
    from adapters.migrations import alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == migrations.head()


def test_a_request_id_is_echoed_or_made(sqlite_settings) -> None:
    client = create_app(sqlite_settings).test_client()
    assert (
        client.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"]
        == "abc-123"
    )
    assert len(client.get("/healthz").headers["X-Request-Id"]) == 16


def test_readiness_expects_the_revision_alembics_scripts_end_at(sqlite_settings, monkeypatch):
    """A new migration in migrations/versions is what a ready database must be at: the app
    reads the head from the scripts, never from a number written beside them."""
    import migrations

    monkeypatch.setattr(migrations, "head", lambda: "0999", raising=False)
    answer = create_app(sqlite_settings).test_client().get("/readyz")
    assert answer.status_code == 503
    assert "expected 0999" in answer.json["database"]


def test_a_database_one_migration_behind_the_head_is_not_ready(sqlite_settings) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    from adapters.migrations import alembic_config

    config = alembic_config(sqlite_settings.database_url)
    head = ScriptDirectory.from_config(config).get_current_head()
    command.downgrade(config, "-1")
    answer = create_app(sqlite_settings).test_client().get("/readyz")
    assert answer.status_code == 503
    assert f"expected {head}" in answer.json["database"]
    command.upgrade(config, "head")
    assert create_app(sqlite_settings).test_client().get("/readyz").json == {"status": "ready"}
