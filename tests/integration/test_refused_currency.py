"""An object in a currency whose minor unit seatflow does not know is refused at the door by
name (stored `ignored`, the catalog import fails naming the price), never read with a
guessed exponent."""

from __future__ import annotations

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from services import stripe_events
from tests.builders import build_world, invoice_event, store_event, subscription_event
from tests.fakes import fake_deps

DEPS = fake_deps()


def test_a_subscription_priced_in_an_unknown_currency_is_stored_ignored_naming_it(
    sqlite_settings,
) -> None:
    engine = make_engine(sqlite_settings)
    world = build_world(engine)
    event = subscription_event("cus_acme", seats=5, created=1_641_000_000)
    event["type"] = "customer.subscription.updated"
    price = event["data"]["object"]["items"]["data"][0]["price"]
    price["currency"] = "xts"
    uow = SqlUnitOfWork(engine)
    event_id = store_event(engine, event)
    assert stripe_events.process_stripe_event(event_id, uow, DEPS) == "ignored"
    with uow:
        note = uow.inbox.full_row(event_id)["last_error"]
        assert price["id"] in note and "'xts'" in note and "minor unit" in note
        assert uow.organizations.get(world.org_id).subscriptions[0].seats == 1
    engine.dispose()


def test_an_invoice_in_an_unknown_currency_is_stored_ignored_naming_it(sqlite_settings) -> None:
    engine = make_engine(sqlite_settings)
    build_world(engine)
    event = invoice_event("invoice.paid", "in_odd", None, 2500)
    event["data"]["object"]["currency"] = "xts"
    uow = SqlUnitOfWork(engine)
    event_id = store_event(engine, event)
    assert stripe_events.process_stripe_event(event_id, uow, DEPS) == "ignored"
    with uow:
        note = uow.inbox.full_row(event_id)["last_error"]
        assert "in_odd" in note and "'xts'" in note and "minor unit" in note
    engine.dispose()
