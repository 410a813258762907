"""A ready organization for upgrade tests: owner, admin, member, catalog, one subscription."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from adapters.stripe_parsing import subscription_snapshot
from adapters.unit_of_work import SqlUnitOfWork
from cli import samples
from domain.cycles import cycle_end
from domain.ports import UnitOfWork
from services import admin
from services.upgrades import steps as upgrade_steps

CATALOG = [
    {
        "license_type": "node_locked",
        "interval": "month",
        "unit_amount": 10000,
        "currency": "usd",
        "stripe_price_id": "price_node_locked_month",
    },
    {
        "license_type": "node_locked",
        "interval": "year",
        "unit_amount": 100000,
        "currency": "usd",
        "stripe_price_id": "price_node_locked_year",
    },
    {
        "license_type": "floating",
        "interval": "month",
        "unit_amount": 15000,
        "currency": "usd",
        "stripe_price_id": "price_floating_month",
    },
    {
        "license_type": "floating",
        "interval": "year",
        "unit_amount": 150000,
        "currency": "usd",
        "stripe_price_id": "price_floating_year",
    },
]
CYCLE_START = datetime(2022, 1, 1, tzinfo=UTC)


@dataclass
class World:
    org_id: str
    owner: dict[str, Any]
    admin: dict[str, Any]
    member: dict[str, Any]
    tokens: dict[str, str]


def subscription_event(
    customer: str,
    *,
    seats: int = 1,
    interval: str = "month",
    license_type: str = "node_locked",
    status: str = "active",
    start: datetime = CYCLE_START,
    created: int = 1_640_995_200,
    sub_id: str = "sub_acme_nl",
) -> dict[str, Any]:
    obj = samples.subscription_object(
        customer=customer,
        subscription_id=sub_id,
        license_type=license_type,
        seats=seats,
        interval=interval,
        status=status,
        period_start=int(start.timestamp()),
        period_end=int(cycle_end(start, interval).timestamp()),
    )
    return samples.event("customer.subscription.created", obj, created=created)


def build_world(
    store: Engine | UnitOfWork,
    customer: str = "cus_acme",
    with_subscription: bool = True,
    **subscription: Any,
) -> World:
    """The organization, built through the services on a database (an engine) or on the
    fakes (a `tests.fakes.FakeUnitOfWork`)."""
    uow = SqlUnitOfWork(store) if isinstance(store, Engine) else store
    org = admin.create_organization(uow, "Acme", customer=customer)
    admin.import_catalog(uow, CATALOG)
    people = {
        role: admin.add_member(uow, org["id"], f"{role}@acme.example", role)
        for role in ("owner", "admin", "member")
    }
    tokens = {role: admin.create_token(uow, p["id"])["token"] for role, p in people.items()}
    if with_subscription:
        event = subscription_event(customer, **subscription)
        with uow:
            found = uow.organizations.get(org["id"], lock=True)
            assert found is not None
            found.sync_subscription(
                subscription_snapshot(event["data"]["object"], event["created"])
            )
            found.collect_events()  # the world starts without a license issued
            uow.commit()
    return World(org["id"], people["owner"], people["admin"], people["member"], tokens)


def store_event(store: Engine | UnitOfWork, event: dict[str, Any], state: str = "received") -> str:
    """Store an event the way the receiver does (without sending a task): in the database
    (an engine, or a SQL unit of work's) with one writer per engine, as one receiver process
    has; or in the fake inbox of a fake unit of work."""
    from inbox.events import IncomingEvent
    from tests.fakes import FakeUnitOfWork
    from webhooks.writer import Delivery, InboxWriter

    if isinstance(store, FakeUnitOfWork):
        return store.inbox.store(event, state)
    engine = store.engine if isinstance(store, SqlUnitOfWork) else store
    assert isinstance(engine, Engine)

    writer = engine.__dict__.get("_test_inbox_writer")
    if writer is None:  # kept on the engine: both go together
        writer = engine.__dict__["_test_inbox_writer"] = InboxWriter(engine, lambda _ids: None)
    body = json.dumps(event).encode()
    writer.store(Delivery(IncomingEvent.parse(body), body, 0, state))
    return str(event["id"])


def invoice_event(
    event_type: str,
    invoice_id: str,
    upgrade_id: str | None,
    amount: int,
    created: int = 1_641_900_000,
    customer: str = "cus_acme",
) -> dict[str, Any]:
    """An invoice event shaped like Stripe's own fixture (API 2026-07-29)."""
    from tests.conftest import stripe_fixture

    invoice = stripe_fixture("invoice")
    paid = event_type == "invoice.paid"
    invoice.update(
        id=invoice_id,
        customer=customer,
        currency="usd",
        total=amount,
        subtotal=amount,
        amount_due=amount,
        amount_paid=amount if paid else 0,
        amount_remaining=0 if paid else amount,
        status="paid" if paid else "open",
        attempt_count=1,
        metadata={"upgrade_id": upgrade_id} if upgrade_id else {},
    )
    return samples.event(event_type, invoice, created=created)


def worker(
    store: Engine | UnitOfWork, deps: Any, sent: list[tuple[str, list[Any]]] | None = None
) -> Any:
    """An enqueue that runs the follow-up Stripe calls at once, as a worker would a moment
    after the commit (refunds, the default card, a change's schedule and its release); other
    tasks are only recorded in `sent`. On the fakes (`store` a fake unit of work), set it as
    the unit of work's `enqueue`."""
    from config.tasks import PUSH_DEFAULT_CARD, REFUND_UPGRADE, RELEASE_SCHEDULE, SCHEDULE_CHANGE
    from services import payment_methods
    from services.upgrades import renewal

    eager = {
        REFUND_UPGRADE: upgrade_steps.refund_upgrade,
        PUSH_DEFAULT_CARD: payment_methods.push_default_card,
        SCHEDULE_CHANGE: renewal.push_change,
        RELEASE_SCHEDULE: renewal.release_change,
    }

    def enqueue(name: str, args: list[Any]) -> None:
        if sent is not None:
            sent.append((name, args))
        if name in eager:
            uow = SqlUnitOfWork(store, enqueue=enqueue) if isinstance(store, Engine) else store
            eager[name](args[0], uow, deps)

    return enqueue
