"""The fake Stripe's events: `GET /v1/events`, webhook endpoints, and signed deliveries that
are duplicated, held back, reordered and retried."""

from __future__ import annotations

import json
import time

import pytest
import stripe
from pytest_httpserver import HTTPServer

from tests.stripe_model import API_VERSION, Deliverer, StripeState

SECRET = "whsec_model_test"
NOW = 1641859200  # 2022-01-11: events are that old, their signatures are not


@pytest.fixture
def receiver(httpserver: HTTPServer) -> str:
    httpserver.expect_request("/webhooks/stripe", method="POST").respond_with_data("")
    return httpserver.url_for("/webhooks/stripe")


def received(httpserver: HTTPServer) -> list[tuple[str, str, str]]:
    """(event id, body, Stripe-Signature) of every delivery the receiver got."""
    return [
        (
            json.loads(req.get_data())["id"],
            req.get_data(as_text=True),
            req.headers["Stripe-Signature"],
        )
        for req, _ in httpserver.log
    ]


def two_events(state: StripeState) -> list[str]:
    with state.lock:
        customer = state.create_customer(behaviour=None)["id"]
        state.customers_update(customer, {"metadata": {"k": "v"}})
        return [e["id"] for e in state.events]


def test_events_are_shaped_like_stripes_and_listed_newest_first(state, client) -> None:
    customer = state.create_customer(behaviour=None)["id"]
    state.clock.advance(60)
    state.customers_update(customer, {"email": "a@example.test"})

    page = client.v1.events.list({"limit": 1})
    assert page.data[0].type == "customer.updated" and page.has_more
    rest = client.v1.events.list({"starting_after": page.data[0].id})
    assert [e.type for e in rest.data] == ["customer.created"]
    newer = client.v1.events.list({"created": {"gte": NOW + 60}, "type": "customer.*"})
    assert [e.type for e in newer.data] == ["customer.updated"]
    event = client.v1.events.retrieve(page.data[0].id).to_dict()
    assert (event["object"], event["api_version"], event["livemode"]) == (
        "event",
        API_VERSION,
        False,
    )
    assert event["data"]["previous_attributes"] == {"email": None}


def test_deliveries_are_signed_at_sending_and_verify_with_the_sdk(
    state, httpserver, receiver
) -> None:
    two_events(state)
    before = int(time.time())
    Deliverer(state, receiver, SECRET).deliver()

    for _, body, header in received(httpserver):
        stripe.WebhookSignature.verify_header(body, header, SECRET, tolerance=300)
        assert int(header.split(",")[0][2:]) >= before  # the event itself is from 2022
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body, header, "whsec_other", tolerance=300)


def test_during_a_secret_roll_each_secret_signs(state, httpserver, receiver) -> None:
    two_events(state)
    Deliverer(state, receiver, ["whsec_new", "whsec_old"]).deliver()
    _, body, header = received(httpserver)[0]
    for secret in ("whsec_new", "whsec_old"):
        stripe.WebhookSignature.verify_header(body, header, secret, tolerance=300)


def test_deliveries_can_be_duplicated_reordered_and_held_back(state, httpserver, receiver) -> None:
    created, updated = two_events(state)
    deliverer = Deliverer(state, receiver, SECRET)
    deliverer.hold("customer.created")

    deliverer.deliver(duplicate=1)
    assert [event_id for event_id, _, _ in received(httpserver)] == [updated, updated]
    assert [e["id"] for e in deliverer.pending()] == [created]

    deliverer.release()
    deliverer.deliver()
    assert deliverer.pending() == []
    state.customers_update(state.events[0]["data"]["object"]["id"], {"name": "n"})
    state.customers_update(state.events[0]["data"]["object"]["id"], {"name": "m"})
    latest = [e["id"] for e in deliverer.pending()]
    deliverer.deliver(order="reverse")
    assert [event_id for event_id, _, _ in received(httpserver)][-2:] == latest[::-1]


def test_a_failed_delivery_stays_pending_and_is_sent_again(state, httpserver) -> None:
    [_, updated] = two_events(state)
    httpserver.expect_oneshot_request("/webhooks/stripe").respond_with_data("", status=503)
    httpserver.expect_request("/webhooks/stripe").respond_with_data("")
    deliverer = Deliverer(state, httpserver.url_for("/webhooks/stripe"), SECRET)

    first = deliverer.deliver(only="customer.updated")
    assert [d.status for d in first] == [503]
    assert [e["id"] for e in state.events_list({"delivery_success": "false"})["data"]] == [
        updated,
        state.events[0]["id"],
    ]
    deliverer.deliver()
    assert [d.status for d in deliverer.deliveries] == [503, 200, 200]
    assert state.events_list({"delivery_success": "false"})["data"] == []


def test_an_unreachable_receiver_is_a_delivery_without_status(state) -> None:
    two_events(state)
    deliveries = Deliverer(state, "http://127.0.0.1:9/nowhere", SECRET, timeout=1).deliver()
    assert [d.status for d in deliveries] == [None, None]


def test_webhook_endpoints_show_their_secret_once_and_filter_events(
    state, client, httpserver, receiver
) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        {
            "url": "https://seatflow.example/webhooks/stripe",
            "enabled_events": ["customer.updated"],
            "api_version": "2026-07-29.dahlia",
        }
    )
    assert endpoint.secret.startswith("whsec_")
    listed = client.v1.webhook_endpoints.list().data[0].to_dict()
    assert "secret" not in listed and listed["url"] == endpoint.url
    client.v1.webhook_endpoints.update(endpoint.id, {"url": receiver})

    [_, updated] = two_events(state)
    Deliverer.for_endpoint(state, endpoint.id).deliver()

    [(event_id, body, header)] = received(httpserver)
    assert event_id == updated
    stripe.WebhookSignature.verify_header(body, header, endpoint.secret, tolerance=300)
    assert state.events[-1]["pending_webhooks"] == 1


def test_a_background_deliverer_sends_new_events_as_they_happen(
    state, httpserver, receiver
) -> None:
    deliverer = Deliverer(state, receiver, SECRET).start(interval=0.01)
    try:
        [created, updated] = two_events(state)
        deadline = time.monotonic() + 5
        while len(httpserver.log) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        deliverer.stop()
    assert [event_id for event_id, _, _ in received(httpserver)] == [created, updated]
