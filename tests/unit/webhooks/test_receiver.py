"""The receiver over Flask's test client, on SQLite and kombu's in-memory broker."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from cli import samples
from config.settings import Settings
from inbox.table import inbox
from tests.conftest import OLD_SECRET, SECRET, stripe_fixture
from webhooks import create_app

URL = "/webhooks/stripe"


@pytest.fixture
def app_and_client(sqlite_settings: Settings):
    app = create_app(sqlite_settings)
    return app, app.test_client()


@pytest.fixture
def client(app_and_client) -> FlaskClient:
    return app_and_client[1]


def rows(app) -> list[dict[str, Any]]:
    with app.extensions["seatflow"].engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(inbox))]


def queued(app, at_least: int = 0) -> int:
    """Messages in the queue; the writer sends them just after it answered the request."""
    from tests.support import wait_until

    if at_least:
        wait_until(lambda: queued(app) >= at_least, 5, interval=0.01)
    celery = app.extensions["seatflow"].celery
    with celery.connection_for_read() as conn:
        return conn.default_channel.queue_declare(
            queue=celery.conf.task_default_queue, passive=False
        ).message_count


def subscription_event(**kw: Any) -> dict[str, Any]:
    return samples.event(
        "customer.subscription.updated", samples.subscription_object(customer="cus_1"), **kw
    )


def post(client: FlaskClient, payload: dict[str, Any], secret: str = SECRET, **headers: str):
    body, signed_headers = samples.signed(payload, secret)
    return client.post(URL, data=body, headers={**signed_headers, **headers})


def test_a_signed_event_is_stored_and_enqueued(app_and_client) -> None:
    app, client = app_and_client
    response = post(client, subscription_event(event_id="evt_stored"))
    assert response.status_code == 200
    [row] = rows(app)
    assert (row["event_id"], row["state"], row["secret_index"]) == ("evt_stored", "received", 0)
    assert row["type"] == "customer.subscription.updated"
    assert row["api_version"] == samples.API_VERSION
    assert json.loads(row["payload"])["id"] == "evt_stored"
    assert queued(app, at_least=1) == 1


def test_concurrent_deliveries_go_out_as_messages_naming_their_events(app_and_client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    app, client = app_and_client
    ids = [f"evt_batch_{i}" for i in range(12)]
    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(lambda i: post(client, subscription_event(event_id=i)), ids))
    assert [c.status_code for c in codes] == [200] * 12
    celery = app.extensions["seatflow"].celery
    sent: list[str] = []
    with celery.connection_for_read() as conn:
        queue = conn.SimpleQueue(celery.conf.task_default_queue)
        while len(sent) < len(ids):
            message = queue.get(timeout=5)
            assert message.headers["task"] == "seatflow.process_stripe_events"
            [event_ids], _, _ = message.decode()
            sent += event_ids
            message.ack()
    assert sorted(sent) == sorted(ids)


def _messages(app) -> list[list[str]]:
    """The task messages waiting, each as the event ids it names (taken off the queue)."""
    celery = app.extensions["seatflow"].celery
    found = []
    with celery.connection_for_read() as conn:
        queue = conn.SimpleQueue(celery.conf.task_default_queue)
        while queue.qsize():
            message = queue.get(timeout=5)
            [event_ids], _, _ = message.decode()
            found.append(event_ids)
            message.ack()
    return found


def test_a_lone_event_is_sent_at_once_and_what_follows_it_shares_the_next_message(
    sqlite_settings: Settings,
) -> None:
    from tests.support import wait_until

    app = create_app(sqlite_settings.with_overrides(webhook_publish_interval_ms=2000))
    client = app.test_client()
    sent: list[list[str]] = []

    def sent_events(count: int) -> bool:
        sent.extend(_messages(app))
        return sum(map(len, sent)) >= count

    assert post(client, subscription_event(event_id="evt_lone")).status_code == 200
    wait_until(lambda: sent_events(1), 10, 0.01)  # at once, not after the interval
    following = [f"evt_next_{i}" for i in range(4)]
    for event_id in following:  # committed within the interval after the first message
        assert post(client, subscription_event(event_id=event_id)).status_code == 200
    wait_until(lambda: sent_events(5), 10, 0.05)
    assert sent == [["evt_lone"], following]


def test_a_duplicate_delivery_answers_200_and_stores_nothing_new(app_and_client) -> None:
    app, client = app_and_client
    event = subscription_event(event_id="evt_dup")
    assert post(client, event).status_code == 200
    second = post(client, event)
    assert second.status_code == 200 and second.json == {"received": True, "duplicate": True}
    assert len(rows(app)) == 1
    assert queued(app, at_least=1) == 1


def test_the_previous_secret_is_accepted_and_recorded(app_and_client) -> None:
    app, client = app_and_client
    assert post(client, subscription_event(), secret=OLD_SECRET).status_code == 200
    assert rows(app)[0]["secret_index"] == 1


def test_stripe_openapi_fixture_event_is_accepted_and_its_unknown_type_ignored(
    app_and_client,
) -> None:
    app, client = app_and_client
    fixture = stripe_fixture("event")  # a `plan.created` event, as Stripe's fixtures have it
    response = post(client, fixture)
    assert response.status_code == 200
    [row] = rows(app)
    assert (row["event_id"], row["state"]) == (fixture["id"], "ignored")
    assert queued(app) == 0


def test_wrong_secret_is_400_and_stores_nothing(app_and_client) -> None:
    app, client = app_and_client
    assert post(client, subscription_event(), secret="whsec_attacker").status_code == 400
    assert rows(app) == []


def test_missing_signature_is_400(client: FlaskClient) -> None:
    body = json.dumps(subscription_event()).encode()
    response = client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert "missing" in response.json["error"]


def test_a_body_one_byte_over_the_limit_is_413(app_and_client, sqlite_settings) -> None:
    app, client = app_and_client
    body = b"x" * (sqlite_settings.webhook_max_body + 1)
    response = client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 413
    assert rows(app) == []


def test_a_body_at_the_limit_is_read(client: FlaskClient, sqlite_settings) -> None:
    body = b" " * sqlite_settings.webhook_max_body
    # Not too large: it gets as far as the signature check.
    assert client.post(URL, data=body, content_type="application/json").status_code == 400


def test_text_plain_is_415(client: FlaskClient) -> None:
    body, headers = samples.signed(subscription_event(), SECRET)
    headers["Content-Type"] = "text/plain"
    assert client.post(URL, data=body, headers=headers).status_code == 415


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_other_methods_are_405(client: FlaskClient, method: str) -> None:
    assert getattr(client, method)(URL).status_code == 405


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2]",
        b'{"object": "customer", "id": "cus_1"}',
        b'{"object": "event", "id": "nope", "type": "x", "created": 1, "data": {"object": {}}}',
        b'{"object": "event", "id": "evt_1", "type": "x", "created": "1", "data": {"object": {}}}',
        b'{"object": "event", "id": "evt_1", "type": "x", "created": 1}',
    ],
)
def test_signed_bodies_that_are_not_events_are_400(app_and_client, payload: bytes) -> None:
    import stripe

    app, client = app_and_client
    header = stripe.WebhookSignature.generate_signature_header(payload.decode(), SECRET)
    response = client.post(
        URL, data=payload, headers={"Stripe-Signature": header, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert rows(app) == []


def test_database_down_is_503(sqlite_settings: Settings, tmp_path) -> None:
    broken = sqlite_settings.with_overrides(database_url=f"sqlite:///{tmp_path}/missing/x.sqlite")
    client = create_app(broken).test_client()
    assert post(client, subscription_event()).status_code == 503


def test_broker_down_still_answers_200_and_leaves_the_row_received(
    sqlite_settings: Settings,
) -> None:
    settings = sqlite_settings.with_overrides(broker_url="redis://127.0.0.1:1/0")
    app = create_app(settings)
    response = post(app.test_client(), subscription_event(event_id="evt_nobroker"))
    assert response.status_code == 200
    assert rows(app)[0]["state"] == "received"


def test_no_secret_or_body_is_logged(app_and_client, capfd) -> None:
    _app, client = app_and_client
    event = subscription_event()
    event["data"]["object"]["metadata"] = {"card": "4242424242424242"}
    post(client, event)
    post(client, event, secret="whsec_attacker")
    err = capfd.readouterr().err
    assert "webhook stored" in err and "webhook rejected" in err
    for needle in (SECRET, OLD_SECRET, "whsec_attacker", "4242424242424242", "v1="):
        assert needle not in err
