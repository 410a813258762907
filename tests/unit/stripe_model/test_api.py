"""The fake Stripe itself, driven with the real `stripe` SDK: invoices and payments,
idempotency as Stripe keeps it, refunds, and the faults it can inject."""

from __future__ import annotations

import pytest
import stripe

from tests.stripe_model.forms import decode

NOW = 1641859200  # 2022-01-11T00:00:00Z


def open_invoice(client: stripe.StripeClient, customer: str, amount: int = 90486) -> str:
    """The first three steps of an upgrade's charge, each with its own key."""
    invoice = client.v1.invoices.create(
        {
            "customer": customer,
            "currency": "usd",
            "auto_advance": False,
            "pending_invoice_items_behavior": "exclude",
            "metadata": {"upgrade_id": "up1"},
        },
        {"idempotency_key": "up1-invoice"},
    )
    client.v1.invoice_items.create(
        {"customer": customer, "invoice": invoice.id, "amount": amount, "currency": "usd"},
        {"idempotency_key": "up1-item"},
    )
    client.v1.invoices.finalize_invoice(invoice.id, {}, {"idempotency_key": "up1-finalize"})
    return str(invoice.id)


def pay(client: stripe.StripeClient, invoice_id: str, key: str = "up1-pay") -> str:
    paid = client.v1.invoices.pay(invoice_id, {"off_session": True}, {"idempotency_key": key})
    return str(paid.status)


def test_an_invoice_is_paid_once_and_the_capture_is_in_the_ledger(state, client) -> None:
    customer = state.create_customer("succeeds")["id"]
    invoice_id = open_invoice(client, customer)

    assert pay(client, invoice_id) == "paid"

    invoice = state.get("invoice", invoice_id)
    assert (invoice["amount_paid"], invoice["amount_remaining"], invoice["total"]) == (
        90486,
        0,
        90486,
    )
    assert state.captured(customer=customer) == 90486
    assert [e.invoice for e in state.captures()] == [invoice_id]
    assert [e["type"] for e in state.events_of("invoice.*")] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    paid_event = state.events_of("invoice.paid")[0]
    assert paid_event["data"]["object"]["metadata"] == {"upgrade_id": "up1"}
    assert paid_event["request"]["idempotency_key"] == "up1-pay"


def test_the_same_key_and_body_replays_the_answer_without_doing_the_work(
    state, server, client
) -> None:
    customer = state.create_customer()["id"]
    params = {"customer": customer, "metadata": {"upgrade_id": "up1"}}
    first = client.v1.invoices.create(params, {"idempotency_key": "k"})
    again = client.v1.invoices.create(params, {"idempotency_key": "k"})

    assert again.id == first.id
    assert len(state.all("invoice")) == 1
    client.v1.invoices.finalize_invoice(first.id)
    replayed = client.v1.invoices.create(params, {"idempotency_key": "k"})
    assert replayed.status == "draft"  # the stored answer, not the invoice as it is now
    assert [r.replayed for r in server.requests("POST", "/v1/invoices")] == [False, True, True]


def test_the_same_key_with_another_body_is_an_idempotency_error(state, client) -> None:
    customer = state.create_customer()["id"]
    client.v1.invoices.create({"customer": customer}, {"idempotency_key": "k"})
    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.invoices.create(
            {"customer": customer, "description": "other"}, {"idempotency_key": "k"}
        )
    assert raised.value.http_status == 400
    assert len(state.all("invoice")) == 1


def test_keys_are_kept_per_api_key(state, server) -> None:
    customer = state.create_customer()["id"]
    for api_key in ("sk_test_one", "sk_test_two"):
        other = stripe.StripeClient(api_key, base_addresses={"api": server.url})
        other.v1.invoices.create({"customer": customer}, {"idempotency_key": "k"})
    assert len(state.all("invoice")) == 2


def test_a_declined_card_leaves_the_invoice_open_with_the_attempt(state, client) -> None:
    customer = state.create_customer("declines")["id"]
    invoice_id = open_invoice(client, customer)

    with pytest.raises(stripe.CardError) as raised:
        pay(client, invoice_id)

    error = raised.value
    assert (error.http_status, error.code) == (402, "card_declined")
    assert error.error is not None and error.error.decline_code == "generic_decline"
    assert error.user_message == "Your card was declined."
    invoice = state.get("invoice", invoice_id)
    assert (invoice["status"], invoice["attempt_count"], invoice["attempted"]) == ("open", 1, True)
    assert state.captured() == 0
    assert len(state.events_of("invoice.payment_failed")) == 1


def test_after_the_card_is_fixed_the_same_invoice_is_paid_with_one_capture(state, client) -> None:
    customer = state.create_customer("declines")["id"]
    invoice_id = open_invoice(client, customer)
    with pytest.raises(stripe.CardError):
        pay(client, invoice_id)
    # Stripe stores the decline for its key: the same key answers the same decline.
    with pytest.raises(stripe.CardError):
        pay(client, invoice_id)

    state.set_card(customer, "succeeds")
    assert pay(client, invoice_id, key="up1-pay-2") == "paid"

    assert state.captured(invoice=invoice_id) == 90486
    assert len(state.all("payment_intent")) == 1
    assert [c["status"] for c in state.all("charge")] == ["failed", "succeeded"]


def test_3ds_is_required_then_completed_and_the_invoice_is_paid(state, client) -> None:
    customer = state.create_customer("requires_action")["id"]
    invoice_id = open_invoice(client, customer)

    with pytest.raises(stripe.CardError) as raised:
        pay(client, invoice_id)
    assert raised.value.code == "authentication_required"
    invoice = state.get("invoice", invoice_id)
    assert invoice["status"] == "open" and invoice["hosted_invoice_url"]
    assert state.invoice_intent(invoice_id)["status"] == "requires_action"
    assert len(state.events_of("invoice.payment_action_required")) == 1
    assert state.captured() == 0

    state.complete_3ds(invoice_id)

    assert state.get("invoice", invoice_id)["status"] == "paid"
    assert state.captured(invoice=invoice_id) == 90486
    assert state.events[-2]["type"] == "invoice.paid"


def test_on_session_payment_needing_3ds_names_the_intent(state, client) -> None:
    customer = state.create_customer("requires_action")["id"]
    invoice_id = open_invoice(client, customer)
    with pytest.raises(stripe.CardError) as raised:
        client.v1.invoices.pay(invoice_id)
    assert raised.value.code == "invoice_payment_intent_requires_action"
    assert raised.value.json_body["error"]["payment_intent"]["status"] == "requires_action"


def test_a_paid_or_draft_invoice_cannot_be_voided_an_open_one_can(state, client) -> None:
    customer = state.create_customer()["id"]
    paid_id = open_invoice(client, customer)
    pay(client, paid_id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.void_invoice(paid_id)
    draft = client.v1.invoices.create({"customer": customer})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.void_invoice(draft.id)
    client.v1.invoice_items.create({"customer": customer, "invoice": draft.id, "amount": 500})
    client.v1.invoices.finalize_invoice(draft.id)

    assert client.v1.invoices.void_invoice(draft.id).status == "void"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.pay(draft.id)
    assert state.get("invoice", paid_id)["status"] == "paid"


def test_pending_items_stay_off_an_invoice_that_excludes_them(state, client) -> None:
    customer = state.create_customer()["id"]
    client.v1.invoice_items.create({"customer": customer, "amount": 700, "currency": "usd"})
    excluded = client.v1.invoices.create(
        {"customer": customer, "pending_invoice_items_behavior": "exclude"}
    )
    included = client.v1.invoices.create(
        {"customer": customer, "pending_invoice_items_behavior": "include"}
    )
    assert (excluded.total, included.total) == (0, 700)
    assert included.lines.data[0].amount == 700


def test_refunds_are_recorded_and_cannot_exceed_the_capture(state, client) -> None:
    customer = state.create_customer()["id"]
    invoice_id = open_invoice(client, customer, amount=10000)
    pay(client, invoice_id)
    intent = state.invoice_intent(invoice_id)["id"]

    client.v1.refunds.create({"payment_intent": intent, "amount": 2500})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create({"payment_intent": intent, "amount": 7501})
    last = client.v1.refunds.create(
        {"charge": state.get("payment_intent", intent)["latest_charge"]}
    )

    assert last.amount == 7500
    assert (state.captured(), state.refunded(invoice=invoice_id)) == (10000, 10000)
    assert state.get("charge", last.charge)["refunded"] is True
    assert len(state.events_of("charge.refunded")) == 2


def test_a_lost_answer_retried_with_its_key_captures_once(state, server, client) -> None:
    customer = state.create_customer()["id"]
    invoice_id = open_invoice(client, customer)
    server.lose_answer("/v1/invoices/*/pay")

    with pytest.raises(stripe.APIError):
        pay(client, invoice_id)
    assert state.captured() == 90486  # the work was done; only the answer was lost
    assert pay(client, invoice_id) == "paid"

    assert state.captured() == 90486
    assert [r.answer_lost for r in server.requests("POST", "/v1/invoices/*/pay")] == [
        True,
        False,
    ]


def test_a_dropped_connection_is_retried_by_the_sdk_with_the_same_key(state, server) -> None:
    customer = state.create_customer()["id"]
    retrying = stripe.StripeClient(
        "sk_test_model", base_addresses={"api": server.url}, max_network_retries=2
    )
    server.lose_answer("/v1/invoices", drop=True)

    invoice = retrying.v1.invoices.create({"customer": customer}, {"idempotency_key": "k"})

    assert [i["id"] for i in state.all("invoice")] == [invoice.id]
    assert [r.replayed for r in server.requests("POST", "/v1/invoices")] == [False, True]


@pytest.mark.parametrize(
    "fault, error",
    [
        ("rate_limit_error", stripe.RateLimitError),
        ("api_error", stripe.APIError),
        ("invalid_request_error", stripe.InvalidRequestError),
        ("authentication_error", stripe.AuthenticationError),
        ("lock_timeout", stripe.APIError),
    ],
)
def test_planned_failures_do_no_work_and_keep_no_answer(state, server, client, fault, error):
    customer = state.create_customer()["id"]
    server.fail_next("/v1/invoices", fault)
    with pytest.raises(error):
        client.v1.invoices.create({"customer": customer}, {"idempotency_key": "k"})
    assert state.all("invoice") == []
    client.v1.invoices.create({"customer": customer}, {"idempotency_key": "k"})
    assert len(state.all("invoice")) == 1


def test_an_unknown_api_key_is_refused(server) -> None:
    stranger = stripe.StripeClient("sk_live_nope", base_addresses={"api": server.url})
    with pytest.raises(stripe.AuthenticationError):
        stranger.v1.customers.retrieve("cus_1")


def test_an_unknown_object_is_a_404_resource_missing(client) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.invoices.retrieve("in_missing")
    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")


def test_requests_are_recorded_as_received(state, server, client) -> None:
    customer = state.create_customer()["id"]
    open_invoice(client, customer)
    [first] = server.requests("POST", "/v1/invoices")
    assert first.params == {
        "customer": customer,
        "currency": "usd",
        "auto_advance": "false",
        "pending_invoice_items_behavior": "exclude",
        "metadata": {"upgrade_id": "up1"},
    }
    assert (first.idempotency_key, first.api_key) == ("up1-invoice", "sk_test_model")


def test_nested_form_keys_decode_to_lists_and_dicts() -> None:
    assert decode("items[0][price]=p&items[1][quantity]=2&metadata[k]=v&expand[]=a") == {
        "items": [{"price": "p"}, {"quantity": "2"}],
        "metadata": {"k": "v"},
        "expand": ["a"],
    }


def test_a_stopped_server_leaves_no_connection_thread_behind() -> None:
    """A client that keeps its connections alive (as Stripe's SDK does) must not keep the
    model's handler threads alive once the server stops: a long search of the money state
    machine starts and stops one server per example."""
    import threading

    from adapters.stripe_gateway import StripeGateway
    from tests.stripe_model import StripeServer

    before = threading.active_count()
    for _ in range(5):
        server = StripeServer().start()
        gateway = StripeGateway("sk_test_seatflow", server.url, max_network_retries=0)
        gateway.retrieve("customer", server.state.create_customer("succeeds")["id"])
        server.stop()
    deadline = __import__("time").monotonic() + 5
    while threading.active_count() > before and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.05)
    assert threading.active_count() <= before
