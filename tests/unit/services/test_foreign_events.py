"""An event of another mode or account that is already in the inbox (stored before the
configuration changed, or by a tool) is ignored by the worker with the reason, never applied."""

from __future__ import annotations

from cli import samples
from inbox.origin import Origin
from services import admin, stripe_events
from tests.builders import store_event
from tests.fakes import fake_deps


def test_the_worker_ignores_an_event_of_another_mode_with_the_reason(uow) -> None:
    admin.create_organization(uow, "Acme", "org_acme", "cus_acme")
    obj = samples.subscription_object(customer="cus_acme", seats=9)
    event = {**samples.event("customer.subscription.updated", obj), "livemode": True}
    event_id = store_event(uow, event)
    deps = fake_deps(origin=Origin(livemode=False))
    assert stripe_events.process_stripe_event(event_id, uow, deps) == "ignored"
    with uow:
        row = uow.inbox.get(event_id)
        assert row is not None and "live mode" in (row.last_error or "")
        assert uow.organizations.get("org_acme").subscriptions == []
