"""Updating the payment method against the stateful fake Stripe, through seatflow's real
gateway: what Stripe received, in what order, and that the next charge uses the new card.

Stripe requests of one card update (Checkout in setup mode):
  POST /v1/checkout/sessions            mode=setup, customer, success/cancel URLs
  (the customer enters a card on Stripe's page: payment_method.attached,
   setup_intent.succeeded, checkout.session.completed)
  POST /v1/customers/{id}               invoice_settings[default_payment_method]
  POST /v1/subscriptions/{id}           default_payment_method
  GET  /v1/setup_intents/{id}           for checkout.session.completed (names only the intent)
The echoes (customer.updated with the same card) send nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from adapters.stripe_gateway import StripeGateway
from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from services import payment_methods, stripe_events
from services.deps import Deps
from tests.builders import build_world, store_event, worker
from tests.fakes import FixedClock, deps_on, open_and_pay
from tests.stripe_model import Clock, StripeServer, StripeState

JAN_1 = 1640995200  # 2022-01-01T00:00:00Z
NOW = 1641859200  # 2022-01-11T00:00:00Z


@pytest.fixture
def stripe_fake() -> Iterator[StripeServer]:
    with StripeServer(StripeState(Clock(frozen=NOW))) as server:
        yield server


@pytest.fixture
def engine(sqlite_settings) -> Engine:
    return make_engine(sqlite_settings)


@pytest.fixture
def deps(stripe_fake: StripeServer) -> Deps:
    gateway = StripeGateway("sk_test_seatflow", stripe_fake.url, max_network_retries=0)
    return deps_on(gateway, FixedClock(datetime(2022, 1, 11, tzinfo=UTC)))


def deliver_all(state: StripeState, engine: Engine, deps: Deps, since: int) -> dict[str, str]:
    """Every event from `since` on, in order, including those the handling itself causes."""
    outcomes: dict[str, str] = {}
    seen = since
    while seen < len(state.events):
        event = state.events[seen]
        seen += 1
        stored = store_event(engine, event)
        outcomes[event["id"]] = stripe_events.process_stripe_event(
            stored, SqlUnitOfWork(engine, enqueue=worker(engine, deps)), deps
        )
    return outcomes


def charge(deps: Deps, customer: str, upgrade_id: str):
    return open_and_pay(
        deps.gateway,
        upgrade_id=upgrade_id,
        customer_id=customer,
        amount=90486,
        currency="usd",
        description="Upgrade node_locked: 1→1 seats, month→year",
        metadata={"organization_id": "org", "upgrade_id": upgrade_id},
    )


def test_a_new_card_from_checkout_becomes_the_default_and_pays_the_next_charge(
    stripe_fake: StripeServer, engine: Engine, deps: Deps
) -> None:
    state = stripe_fake.state
    customer = state.create_customer("declines")["id"]
    sub = state.create_subscription(
        customer, "price_node_locked_month", unit_amount=10000, period_start=JAN_1
    )
    world = build_world(engine, customer=customer, sub_id=sub["id"])
    declined = charge(deps, customer, "up_declined")
    assert (declined.paid, state.captured(customer=customer)) == (False, 0)
    with SqlUnitOfWork(engine) as uow:
        owner = uow.members.get(world.owner["id"])
    assert owner is not None
    before = len(stripe_fake.requests())

    url = payment_methods.setup_url(
        SqlUnitOfWork(engine), deps, owner, "https://seatflow.test/done", "https://seatflow.test/x"
    )
    session = state.all("checkout.session")[-1]
    assert url == session["url"]
    assert (session["mode"], session["customer"]) == ("setup", customer)
    assert session["success_url"] == "https://seatflow.test/done"
    mark = len(state.events)
    state.complete_checkout(session["id"], "succeeds")
    card = state.get("setup_intent", session["setup_intent"])["payment_method"]

    outcomes = deliver_all(state, engine, deps, mark)

    writes = [(r.method, r.path, r.params) for r in stripe_fake.requests()[before:]]
    assert [(m, p) for m, p, _ in writes if m == "POST"] == [
        ("POST", "/v1/checkout/sessions"),
        ("POST", f"/v1/customers/{customer}"),
        ("POST", f"/v1/subscriptions/{sub['id']}"),
    ]
    posted = [params for m, _, params in writes if m == "POST"]
    assert posted[1] == {"invoice_settings": {"default_payment_method": card}}
    assert posted[2] == {"default_payment_method": card}
    assert state.get("customer", customer)["invoice_settings"]["default_payment_method"] == card
    assert state.get("subscription", sub["id"])["default_payment_method"] == card
    types = {e["id"]: e["type"] for e in state.events}
    assert {types[i] for i, s in outcomes.items() if s == "applied"} >= {
        "payment_method.attached",
        "setup_intent.succeeded",
        "checkout.session.completed",
        "customer.updated",
    }
    on_file = payment_methods.card_on_file(SqlUnitOfWork(engine), world.org_id)
    assert on_file is not None and on_file.payment_method_id == card
    assert on_file.card is not None
    assert (on_file.card.last4, on_file.card.exp_month, on_file.card.exp_year) == ("4242", 8, 2030)

    paid = charge(deps, customer, "up_after_update")
    assert (paid.paid, paid.failure) == (True, None)
    assert state.captured(customer=customer) == 90486
    assert state.captured(invoice=paid.invoice_id) == 90486


def test_a_replayed_or_older_card_event_sends_nothing_to_stripe(
    stripe_fake: StripeServer, engine: Engine, deps: Deps
) -> None:
    state = stripe_fake.state
    customer = state.create_customer("succeeds")["id"]
    first_attach = state.events_of("payment_method.attached")[-1]
    build_world(engine, customer=customer, with_subscription=False)
    state.advance(60)
    newer = state.set_card(customer, "succeeds")  # as in the portal: attached, customer.updated
    mark = len(state.events) - 2
    deliver_all(state, engine, deps, mark)
    sent = len(stripe_fake.requests("POST"))

    replay = dict(state.events[mark], id="evt_replayed_copy")
    again = stripe_events.process_stripe_event(
        store_event(engine, replay), SqlUnitOfWork(engine), deps
    )
    older = stripe_events.process_stripe_event(
        store_event(engine, first_attach), SqlUnitOfWork(engine), deps
    )

    assert (again, older) == ("applied", "skipped_stale")
    assert len(stripe_fake.requests("POST")) == sent
    assert (
        state.get("customer", customer)["invoice_settings"]["default_payment_method"] == newer["id"]
    )


def test_seatflows_late_push_of_an_older_card_is_undone_not_adopted(
    stripe_fake: StripeServer, engine: Engine, deps: Deps
) -> None:
    """The customer adds card B while seatflow's request to make card A the default is still
    on its way; A's request lands last. Stripe's customer.updated for it names seatflow's
    idempotency key: seatflow keeps B and tells Stripe B again."""
    state = stripe_fake.state
    customer = state.create_customer("declines")["id"]
    card_a = state.get("customer", customer)["invoice_settings"]["default_payment_method"]
    sub = state.create_subscription(
        customer, "price_node_locked_month", unit_amount=10000, period_start=JAN_1
    )
    world = build_world(engine, customer=customer, sub_id=sub["id"])
    state.advance(60)
    mark = len(state.events)
    card_b = state.set_card(customer, "succeeds")["id"]  # in the portal
    held: list[tuple[str, list[str]]] = []
    for event in state.events[mark:]:
        stripe_events.process_stripe_event(
            store_event(engine, event),
            SqlUnitOfWork(engine, enqueue=lambda n, a: held.append((n, a))),
            deps,
        )
    state.advance(60)
    mark = len(state.events)
    deps.gateway.set_default_payment_method(  # A's push, landing last
        customer_id=customer, payment_method_id=card_a, subscription_ids=[sub["id"]], version=1
    )
    echo = next(e for e in state.events[mark:] if e["type"] == "customer.updated")

    outcome = stripe_events.process_stripe_event(
        store_event(engine, echo), SqlUnitOfWork(engine, enqueue=worker(engine, deps)), deps
    )

    assert outcome == "skipped_stale"
    on_file = payment_methods.card_on_file(SqlUnitOfWork(engine), world.org_id)
    assert on_file is not None and on_file.payment_method_id == card_b
    assert state.get("customer", customer)["invoice_settings"]["default_payment_method"] == card_b
    assert state.get("subscription", sub["id"])["default_payment_method"] == card_b
