"""The Stripe gateway against a fake Stripe HTTP server: the exact requests and their keys."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest
from pytest_httpserver import HTTPServer

from adapters.stripe_errors import StripeUnavailable
from adapters.stripe_gateway import TIMEOUT, StripeGateway
from domain.ports import SubscriptionChange
from tests.conftest import stripe_fixture
from tests.fakes import open_and_pay


def invoice(status: str = "draft") -> dict:
    body = stripe_fixture("invoice")
    body.update(id="in_up1", status=status, customer="cus_1")
    if status == "draft":
        body["lines"] = {"object": "list", "data": [], "has_more": False}
    return body


def sent(httpserver: HTTPServer) -> list[tuple[str, str, str | None, dict[str, str]]]:
    return [
        (
            req.method,
            req.path,
            req.headers.get("Idempotency-Key"),
            dict(parse_qsl(req.get_data(as_text=True))),
        )
        for req, _ in httpserver.log
    ]


@pytest.fixture
def gateway(httpserver: HTTPServer) -> StripeGateway:
    return StripeGateway("sk_test_fake", httpserver.url_for("").rstrip("/"), max_network_retries=0)


def test_charge_sends_one_exact_invoice_with_idempotency_keys(httpserver, gateway) -> None:
    httpserver.expect_ordered_request("/v1/invoices", "POST").respond_with_json(invoice())
    httpserver.expect_ordered_request("/v1/invoices/in_up1", "GET").respond_with_json(invoice())
    httpserver.expect_ordered_request("/v1/invoiceitems", "POST").respond_with_json(
        {"id": "ii_1", "object": "invoiceitem"}
    )
    httpserver.expect_ordered_request("/v1/invoices/in_up1/finalize", "POST").respond_with_json(
        invoice("open")
    )
    httpserver.expect_ordered_request("/v1/invoices/in_up1/pay", "POST").respond_with_json(
        invoice("paid")
    )

    result = open_and_pay(
        gateway,
        upgrade_id="up1",
        customer_id="cus_1",
        amount=90486,
        currency="usd",
        description="Upgrade",
        metadata={"organization_id": "org_1", "upgrade_id": "up1"},
    )

    assert (result.invoice_id, result.paid, result.failure) == ("in_up1", True, None)
    assert sent(httpserver) == [
        (
            "POST",
            "/v1/invoices",
            "seatflow-upgrade-up1-invoice",
            {
                "customer": "cus_1",
                "currency": "usd",
                "collection_method": "charge_automatically",
                "auto_advance": "false",
                "pending_invoice_items_behavior": "exclude",
                "description": "Upgrade",
                "metadata[organization_id]": "org_1",
                "metadata[upgrade_id]": "up1",
            },
        ),
        ("GET", "/v1/invoices/in_up1", None, {}),
        (
            "POST",
            "/v1/invoiceitems",
            "seatflow-upgrade-up1-item",
            {
                "customer": "cus_1",
                "invoice": "in_up1",
                "amount": "90486",
                "currency": "usd",
                "description": "Upgrade",
                "metadata[upgrade_id]": "up1",
            },
        ),
        (
            "POST",
            "/v1/invoices/in_up1/finalize",
            "seatflow-upgrade-up1-finalize",
            {"auto_advance": "false"},
        ),
        ("POST", "/v1/invoices/in_up1/pay", "seatflow-upgrade-up1-pay", {"off_session": "true"}),
    ]
    assert all(req.headers["Authorization"] == "Bearer sk_test_fake" for req, _ in httpserver.log)


def test_a_declined_card_is_a_failure_with_the_reason(httpserver, gateway) -> None:
    httpserver.expect_request("/v1/invoices", "POST").respond_with_json(invoice())
    httpserver.expect_request("/v1/invoices/in_up1", "GET").respond_with_json(invoice())
    httpserver.expect_request("/v1/invoiceitems", "POST").respond_with_json({"id": "ii_1"})
    httpserver.expect_request("/v1/invoices/in_up1/finalize", "POST").respond_with_json(
        invoice("open")
    )
    httpserver.expect_request("/v1/invoices/in_up1/pay", "POST").respond_with_json(
        {
            "error": {
                "type": "card_error",
                "code": "card_declined",
                "message": "Your card was declined.",
            }
        },
        status=402,
    )
    result = open_and_pay(
        gateway,
        upgrade_id="up1",
        customer_id="cus_1",
        amount=1,
        currency="usd",
        description="x",
        metadata={},
    )
    assert (result.paid, result.failure) == (False, "Your card was declined.")


def test_a_retried_charge_repeats_the_same_keys(httpserver, gateway) -> None:
    for path, status in (
        ("/v1/invoices", "draft"),
        ("/v1/invoices/in_up1/finalize", "open"),
        ("/v1/invoices/in_up1/pay", "paid"),
    ):
        httpserver.expect_request(path, "POST").respond_with_json(invoice(status))
    httpserver.expect_request("/v1/invoiceitems", "POST").respond_with_json({"id": "ii_1"})
    httpserver.expect_request("/v1/invoices/in_up1", "GET").respond_with_json(invoice())
    for _ in range(2):
        open_and_pay(
            gateway,
            upgrade_id="up9",
            customer_id="c",
            amount=5,
            currency="usd",
            description="x",
            metadata={},
        )
    keys = [key for method, _, key, _ in sent(httpserver) if method == "POST"]
    assert keys[:4] == keys[4:]
    assert len(set(keys)) == 4


def test_interval_switch_pushes_price_quantity_and_prepaid_trial_end(httpserver, gateway) -> None:
    sub = stripe_fixture("subscription")
    httpserver.expect_request("/v1/subscriptions/sub_1", "POST").respond_with_json(sub)
    gateway.update_subscription(
        SubscriptionChange(
            upgrade_id="up1",
            subscription_id="sub_1",
            item_id="si_1",
            price_id="price_node_locked_year",
            quantity=3,
            cycle_start=datetime(2022, 1, 1, tzinfo=UTC),
            prepaid_until=datetime(2023, 1, 1, tzinfo=UTC),
        )
    )
    assert sent(httpserver) == [
        (
            "POST",
            "/v1/subscriptions/sub_1",
            "seatflow-upgrade-up1-subscription",
            {
                "items[0][id]": "si_1",
                "items[0][price]": "price_node_locked_year",
                "items[0][quantity]": "3",
                "proration_behavior": "none",
                "metadata[seatflow_upgrade_id]": "up1",
                "trial_end": "1672531200",
                "metadata[seatflow_prepaid_until]": "1672531200",
                "metadata[seatflow_cycle_start]": "1640995200",
            },
        )
    ]


def test_seat_change_keeps_the_cycle(httpserver, gateway) -> None:
    httpserver.expect_request("/v1/subscriptions/sub_1", "POST").respond_with_json(
        stripe_fixture("subscription")
    )
    gateway.update_subscription(
        SubscriptionChange(
            upgrade_id="up2",
            subscription_id="sub_1",
            item_id="si_1",
            price_id="price_m",
            quantity=7,
            cycle_start=datetime(2022, 1, 1, tzinfo=UTC),
        )
    )
    [(_, _, _, form)] = sent(httpserver)
    assert "trial_end" not in form and form["proration_behavior"] == "none"


def test_stripe_5xx_and_429_are_transient(httpserver, gateway) -> None:
    httpserver.expect_request("/v1/subscriptions/sub_1", "POST").respond_with_json(
        {"error": {"type": "api_error", "message": "boom"}}, status=500
    )
    change = SubscriptionChange("u", "sub_1", "si", "p", 1, datetime(2022, 1, 1, tzinfo=UTC))
    with pytest.raises(StripeUnavailable):
        gateway.update_subscription(change)
    httpserver.clear()
    httpserver.expect_request("/v1/subscriptions/sub_1", "POST").respond_with_json(
        {"error": {"type": "rate_limit_error", "message": "slow down"}}, status=429
    )
    with pytest.raises(StripeUnavailable):
        gateway.update_subscription(change)


def test_void_reports_an_invoice_that_was_paid_meanwhile(httpserver, gateway) -> None:
    httpserver.expect_request("/v1/invoices/in_1/void", "POST").respond_with_json(
        {"error": {"type": "invalid_request_error", "message": "already paid"}}, status=400
    )
    httpserver.expect_request("/v1/invoices/in_1", "GET").respond_with_json(
        {"id": "in_1", "object": "invoice", "status": "paid"}
    )
    assert gateway.void_invoice(upgrade_id="u", invoice_id="in_1") == "paid"
    assert sent(httpserver)[0][2] == "seatflow-upgrade-u-void"


def test_every_request_carries_the_api_version_the_webhook_endpoints_render_events_in(
    httpserver, gateway
) -> None:
    """One version for what seatflow sends and what Stripe sends it: the SDK's own default
    (newer than the event shapes seatflow parses) never goes out."""
    from config.events import STRIPE_API_VERSION

    httpserver.expect_request("/v1/subscriptions", "GET").respond_with_json(
        {"object": "list", "data": [], "has_more": False}
    )
    httpserver.expect_request("/v1/webhook_endpoints", "POST").respond_with_json(
        {"id": "we_1", "object": "webhook_endpoint", "api_version": STRIPE_API_VERSION}
    )
    httpserver.expect_request("/v1/invoices/in_up1", "GET").respond_with_json(invoice())

    list(gateway.list_subscriptions())
    url = "https://b.example/webhooks/stripe"
    gateway.create_webhook_endpoint(url, ["invoice.paid"], STRIPE_API_VERSION)
    gateway.retrieve("invoice", "in_up1")

    versions = [req.headers.get("Stripe-Version") for req, _ in httpserver.log]
    assert versions == [STRIPE_API_VERSION] * 3
    assert dict(parse_qsl(httpserver.log[1][0].get_data(as_text=True)))["api_version"] == (
        STRIPE_API_VERSION
    )


def test_a_stripe_that_never_answers_is_given_up_on_within_a_minute() -> None:
    """The gateway as production builds it, on a connection accepted and never answered: each
    try waits at most TIMEOUT's read part, the SDK tries 1 + max_network_retries times with
    its backoff (at most MAX_DELAY) between: under a minute in all, where the SDK's own
    timeout is 80 s a try. (The next test shows that the tries do give up.)"""
    import inspect

    from stripe._http_client import HTTPClient

    defaults = inspect.signature(StripeGateway).parameters
    timeout = defaults["timeout"].default
    tries = 1 + defaults["max_network_retries"].default
    backoff = sum(HTTPClient.MAX_DELAY for _ in range(tries - 1))
    assert timeout == TIMEOUT
    connect, read = timeout
    assert connect < read and read * tries + backoff < 60


def test_a_connection_accepted_and_never_answered_is_given_up_on_after_every_try() -> None:
    """A connection accepted and never answered (a dead proxy, a black-holed route): each try
    gives up after the gateway's read timeout, the retries too, and the charge ends as
    StripeUnavailable (here with a 1 s timeout; production's is TIMEOUT)."""
    import socket
    import threading
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    gateway = StripeGateway(
        "sk_test_fake", f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=(1.0, 1.0)
    )
    outcome: list[BaseException] = []

    def charge() -> None:
        try:
            open_and_pay(
                gateway,
                upgrade_id="up1",
                customer_id="cus_1",
                amount=100,
                currency="usd",
                description="Upgrade",
                metadata={},
            )
        except BaseException as exc:  # the outcome is checked below
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=charge, daemon=True)
    worker.start()
    worker.join(timeout=60)
    took = time.monotonic() - started
    stop.set()
    for conn in held:
        conn.close()
    listener.close()
    assert not worker.is_alive(), "still waiting for Stripe after 60 s"
    assert len(outcome) == 1 and isinstance(outcome[0], StripeUnavailable)
    assert len(held) == 3  # the first try and the SDK's two retries, each given up on
    assert took < 25, f"{took:.0f} s: the gateway's timeout was not the one given"  # 3 × 1 s
