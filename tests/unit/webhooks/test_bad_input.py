"""One bad delivery gets its own answer and never fails its neighbours."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import stripe
from flask.testing import FlaskClient

from cli import samples
from config.database import make_engine
from config.settings import Settings
from inbox.events import IncomingEvent
from tests.conftest import SECRET
from webhooks import create_app
from webhooks.writer import Delivery, InboxWriter

URL = "/webhooks/stripe"


@pytest.fixture
def client(sqlite_settings: Settings) -> FlaskClient:
    return create_app(sqlite_settings.with_overrides(webhook_commit_wait_ms=50)).test_client()


def event(event_id: str, **fields: Any) -> dict[str, Any]:
    obj = samples.subscription_object(customer="cus_bad")
    return {**samples.event("customer.subscription.updated", obj, event_id=event_id), **fields}


def post_body(client: FlaskClient, body: bytes) -> int:
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET)
    headers = {"Content-Type": "application/json", "Stripe-Signature": header}
    return client.post(URL, data=body, headers=headers).status_code


def test_an_unstorable_created_gets_400_and_its_concurrent_neighbours_200(client) -> None:
    bodies = [json.dumps(event(f"evt_n{i}")).encode() for i in range(30)]
    bodies[7] = json.dumps(event("evt_huge", created=10**30)).encode()
    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda b: post_body(client, b), bodies))
    assert codes[7] == 400
    assert codes[:7] + codes[8:] == [200] * 29


def test_json_nested_100000_deep_is_400(client) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert post_body(client, deep) == 400


def test_a_body_with_a_byte_order_mark_is_400_not_stored_for_the_worker(client) -> None:
    assert post_body(client, b"\xef\xbb\xbf" + json.dumps(event("evt_bom")).encode()) == 400


def test_when_a_group_insert_fails_only_the_bad_row_fails(sqlite_settings) -> None:
    """A row the database refuses (here one that skipped validation) fails alone."""
    writer = InboxWriter(make_engine(sqlite_settings), lambda _ids: None, max_wait=0.3)

    def delivery(event_id: str, created: int) -> Delivery:
        body = json.dumps(event(event_id)).encode()
        parsed = IncomingEvent.parse(body)
        return Delivery(IncomingEvent(**{**parsed.__dict__, "created": created}), body, 0)

    batch = [delivery(f"evt_g{i}", 1_700_000_000) for i in range(6)]
    batch.insert(3, delivery("evt_overflow", 10**30))

    def store(d: Delivery) -> object:
        try:
            return writer.store(d)
        except Exception as exc:
            return type(exc).__name__

    with ThreadPoolExecutor(7) as pool:
        results = list(pool.map(store, batch))
    assert results[3] != True  # noqa: E712
    assert results[:3] + results[4:] == [True] * 6


def test_an_unreachable_database_is_not_retried_row_by_row(sqlite_settings) -> None:
    """With the database gone every row would fail alike: one attempt, then all fail fast."""
    from sqlalchemy.exc import OperationalError

    calls: list[int] = []

    class Unreachable(InboxWriter):
        def _execute(self, params: list[dict[str, object]]) -> list[str]:
            calls.append(len(params))
            raise OperationalError("INSERT", {}, Exception("connection refused"))

    writer = Unreachable(make_engine(sqlite_settings), lambda _ids: None, max_wait=0.3)
    batch = [
        Delivery(IncomingEvent.parse(b := json.dumps(event(f"evt_u{i}")).encode()), b, 0)
        for i in range(5)
    ]

    def store(d: Delivery) -> str:
        try:
            writer.store(d)
        except OperationalError:
            return "failed"
        return "stored"

    with ThreadPoolExecutor(5) as pool:
        assert list(pool.map(store, batch)) == ["failed"] * 5
    assert calls == [5]


def test_an_old_signed_delivery_replayed_with_a_fresh_t_is_400_and_not_stored(
    sqlite_settings,
) -> None:
    import time

    from sqlalchemy import func, select

    from inbox.table import inbox

    app = create_app(sqlite_settings)
    old = int(time.time()) - 3600
    body, headers = samples.signed(event("evt_replayed"), SECRET, timestamp=old)
    signature = headers["Stripe-Signature"].split(",", 1)[1]  # v1=… of the old delivery
    headers["Stripe-Signature"] = f" t={int(time.time())},t={old},{signature}"
    assert app.test_client().post(URL, data=body, headers=headers).status_code == 400
    with app.extensions["seatflow"].engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(inbox)) == 0
