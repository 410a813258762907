"""Payment-method events and a paid invoice's receipt, read from Stripe's own shapes
(API 2026-07-29 fixtures in tests/fixtures/stripe)."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.stripe_parsing import to_command
from cli import samples
from domain.commands import AdoptPaymentMethod, ConfirmInvoicePaid
from domain.payment_methods import Card
from tests.conftest import stripe_fixture


def test_a_setup_mode_checkout_names_the_customer_and_the_setup_intent() -> None:
    session = stripe_fixture("checkout.session") | {
        "mode": "setup",
        "customer": "cus_acme",
        "setup_intent": "seti_1",
    }
    cmd = to_command(samples.event("checkout.session.completed", session, created=100))
    assert cmd == AdoptPaymentMethod(
        "cus_acme", None, 100, cmd.event_id if cmd else "", setup_intent_id="seti_1"
    )


def test_a_payment_mode_checkout_is_not_a_card_update() -> None:
    session = stripe_fixture("checkout.session") | {"customer": "cus_acme"}
    assert session["mode"] == "payment"
    assert to_command(samples.event("checkout.session.completed", session)) is None


def test_an_attached_card_carries_brand_last4_and_expiry() -> None:
    pm = stripe_fixture("payment_method") | {"id": "pm_new", "customer": "cus_acme"}
    cmd = to_command(samples.event("payment_method.attached", pm, created=7))
    assert isinstance(cmd, AdoptPaymentMethod)
    assert (cmd.stripe_customer_id, cmd.payment_method_id, cmd.version) == ("cus_acme", "pm_new", 7)
    assert cmd.card == Card("visa", "4242", 8, 2030)


def test_a_customer_update_counts_only_when_its_default_changed() -> None:
    customer = stripe_fixture("customer") | {"id": "cus_acme"}
    customer["invoice_settings"] = customer["invoice_settings"] | {"default_payment_method": "pm_2"}
    other = samples.event("customer.updated", customer)
    other["data"]["previous_attributes"] = {"email": "old@acme.example"}
    changed = samples.event("customer.updated", customer)
    changed["data"]["previous_attributes"] = {
        "invoice_settings": {"default_payment_method": "pm_1"}
    }

    assert to_command(other) is None
    found = to_command(changed)
    assert isinstance(found, AdoptPaymentMethod) and found.payment_method_id == "pm_2"


def test_a_setup_intent_without_a_customer_is_not_acted_on() -> None:
    intent = {"id": "seti_1", "object": "setup_intent", "customer": None, "payment_method": "pm_1"}
    assert to_command(samples.event("setup_intent.succeeded", intent)) is None


def test_a_paid_invoice_carries_its_receipt() -> None:
    invoice = stripe_fixture("invoice") | {
        "id": "in_1",
        "number": "ACME-0001",
        "amount_paid": 90486,
        "currency": "usd",
        "hosted_invoice_url": "https://invoice.stripe.com/i/acct/test_1",
        "invoice_pdf": "https://pay.stripe.com/invoice/acct/test_1/pdf",
        "status_transitions": {"paid_at": 1641859200},
        "metadata": {"upgrade_id": "upg_1"},
    }
    cmd = to_command(samples.event("invoice.paid", invoice))
    assert isinstance(cmd, ConfirmInvoicePaid)
    r = cmd.invoice.receipt("upg_seatflow_recorded")
    # The upgrade is the one seatflow recorded for the invoice, never the metadata's.
    assert (r.invoice_id, r.number, r.amount_paid, r.currency, r.upgrade_id) == (
        "in_1",
        "ACME-0001",
        90486,
        "usd",
        "upg_seatflow_recorded",
    )
    assert r.paid_at == datetime(2022, 1, 11, tzinfo=UTC)
    assert r.hosted_invoice_url == invoice["hosted_invoice_url"]
    assert r.invoice_pdf == invoice["invoice_pdf"]


def test_only_seatflows_own_idempotency_key_marks_a_card_event_as_its_request() -> None:
    pm = stripe_fixture("payment_method") | {"id": "pm_new", "customer": "cus_acme"}

    def by_seatflow(request: object) -> bool:
        event = samples.event("payment_method.attached", pm, created=7) | {"request": request}
        cmd = to_command(event)
        assert isinstance(cmd, AdoptPaymentMethod)
        return cmd.by_seatflow

    assert by_seatflow({"id": "req_1", "idempotency_key": "seatflow-pm-cus_acme-pm_new-7"})
    # The customer's or the dashboard's requests, and every other shape Stripe has used.
    assert not by_seatflow({"id": "req_2", "idempotency_key": "dashboard-1"})
    assert not by_seatflow({"id": "req_3", "idempotency_key": None})
    assert not by_seatflow({"id": None})
    assert not by_seatflow(None)
    assert not by_seatflow("req_4")  # older API versions: the request's id alone
    assert not by_seatflow({"idempotency_key": ["seatflow-pm-"]})
