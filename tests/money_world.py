"""seatflow's real services (SQLite or PostgreSQL) against the stateful fake Stripe.

One `MoneyWorld` is one organization whose Stripe customer, prices and subscription live in
`tests.stripe_model`; `deliver()` hands every event Stripe emitted since the last call to
seatflow's inbox processor, as the webhook receiver and the worker would. Both sides share
Stripe's clock, so `advance()` moves seatflow's time too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from adapters.stripe_gateway import StripeGateway
from adapters.unit_of_work import SqlUnitOfWork
from domain.commands import CancelUpgrade, RequestEstimate, SubmitUpgrade
from domain.renewal import CancelScheduledChange, ScheduleChange, ScheduledChange
from domain.upgrades import Estimate, Upgrade
from services import admin, stripe_events
from services.deps import Deps
from services.upgrades import charge as upgrade_charge
from services.upgrades import payment as upgrade_payment
from services.upgrades import renewal
from services.upgrades import request as upgrade_request
from tests.builders import CATALOG, store_event, worker
from tests.fakes import deps_on
from tests.stripe_model import StripeServer, StripeState

DAY = 86400


class StripeTime:
    """seatflow's clock reads Stripe's, so both agree on what `now` is."""

    def __init__(self, state: StripeState) -> None:
        self.state = state

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.state.now(), UTC)


@dataclass
class MoneyWorld:
    engine: Engine
    server: StripeServer
    org_id: str
    customer: str
    members: dict[str, str]
    deps: Deps
    sent: list[tuple[str, list[str]]] = field(default_factory=list)
    delivered: int = 0

    @property
    def state(self) -> StripeState:
        return self.server.state

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, enqueue=worker(self.engine, self.deps, self.sent))

    def estimate(self, seats: int, interval: str, code: str | None = None, role: str = "owner"):
        cmd = RequestEstimate(self.org_id, self.members[role], "node_locked", seats, interval, code)
        return upgrade_request.request_estimate(cmd, self.uow(), self.deps)

    def submit(self, estimate: Estimate, key: str | None = None, role: str = "owner") -> Upgrade:
        cmd = SubmitUpgrade(self.org_id, self.members[role], estimate.id, key)
        return upgrade_request.submit_upgrade(cmd, self.uow(), self.deps)[0]

    def charge(self, upgrade_id: str) -> str:
        """The charge task once: `retrying` when it would come back later (RetryLater)."""
        from services.upgrades.charge import RetryLater

        try:
            return upgrade_charge.charge_upgrade(upgrade_id, self.uow(), self.deps)
        except RetryLater:
            return "retrying"

    def cancel(self, upgrade_id: str, role: str = "owner") -> Upgrade:
        cmd = CancelUpgrade(self.org_id, self.members[role], upgrade_id)
        return upgrade_request.cancel_upgrade(cmd, self.uow(), self.deps)

    def retry(self, upgrade_id: str, role: str = "owner") -> Upgrade:
        from domain.commands import RetryPayment
        from services.upgrades import charge as upgrade_charge

        cmd = RetryPayment(self.org_id, self.members[role], upgrade_id)
        return upgrade_charge.retry_payment(cmd, self.uow(), self.deps)

    def resume(self) -> list[str]:
        """What the resume job re-sends now: the ids it would charge or push."""
        before = len(self.sent)
        upgrade_charge.resume_stuck(self.uow(), self.deps)
        return [args[0] for _, args in self.sent[before:]]

    def push(self, upgrade_id: str) -> bool:
        return upgrade_payment.push_upgrade(upgrade_id, self.uow(), self.deps)

    def schedule(
        self, seats: int, interval: str, tier: str | None = None, role: str = "owner"
    ) -> ScheduledChange:
        """A change for the renewal; its Stripe step (a task) runs at once, as a worker would."""
        cmd = ScheduleChange(self.org_id, self.members[role], "node_locked", seats, interval, tier)
        return self.change(renewal.schedule_change(cmd, self.uow(), self.deps).id)

    def cancel_change(self, change_id: str, role: str = "owner") -> ScheduledChange:
        cmd = CancelScheduledChange(self.org_id, self.members[role], change_id)
        return renewal.cancel_change(cmd, self.uow(), self.deps)

    def change(self, change_id: str) -> ScheduledChange:
        with self.uow() as uow:
            found = uow.changes.get(change_id)
            assert found is not None
            return found

    def ledger(self) -> list[tuple[int, str, str, str]]:
        """The seat ledger, oldest first: (seats, interval, cause, reference)."""
        from sqlalchemy import select

        from adapters.orm import seat_ledger as t

        query = select(t.c.seats, t.c.interval, t.c.cause, t.c.reference).order_by(t.c.id)
        query = query.where(t.c.organization_id == self.org_id)
        with self.engine.connect() as conn:
            return [(r[0], r[1], r[2], r[3]) for r in conn.execute(query)]

    def deliver(self) -> list[tuple[str, str]]:
        """Every event emitted since the last delivery, in order: (type, inbox state)."""
        with self.state.lock:
            events = self.state.events[self.delivered :]
            self.delivered = len(self.state.events)
        return [(e["type"], self.process(e)) for e in events]

    def process(self, event: dict[str, Any]) -> str:
        event_id = store_event(self.engine, json.loads(json.dumps(event)))
        return stripe_events.process_stripe_event(event_id, self.uow(), self.deps)

    def advance(self, seconds: int) -> None:
        self.state.advance(seconds)

    def upgrade(self, upgrade_id: str) -> Upgrade:
        with self.uow() as uow:
            found = uow.upgrades.get(upgrade_id)
            assert found is not None
            return found

    def subscription(self) -> Any:
        with self.uow() as uow:
            org = uow.organizations.get(self.org_id)
            assert org is not None
            return org.subscription_for("node_locked")

    def licenses(self) -> list[Any]:
        with self.uow() as uow:
            return uow.licenses.history(self.org_id)

    def stripe_subscription(self) -> dict[str, Any]:
        """The organization's subscription at Stripe (the first one made)."""
        return self.state.all("subscription")[0]

    def open_invoices(self) -> list[dict[str, Any]]:
        return [i for i in self.invoices() if i["status"] == "open"]

    def invoices(self) -> list[dict[str, Any]]:
        return [i for i in self.state.all("invoice") if i["customer"] == self.customer]


def stripe_prices(state: StripeState) -> None:
    for entry in CATALOG:
        state.create_price(
            entry["stripe_price_id"],
            unit_amount=entry["unit_amount"],
            interval=entry["interval"],
        )


def money_world(
    engine: Engine,
    server: StripeServer,
    *,
    card: str = "succeeds",
    seats: int = 1,
    interval: str = "month",
    period_start: int | None = None,
    trial_days: int | None = None,
) -> MoneyWorld:
    """An organization with one node-locked subscription that Stripe created and told."""
    state = server.state
    stripe_prices(state)
    customer = state.create_customer(card)["id"]
    start = state.now() if period_start is None else period_start
    state.create_subscription(
        customer,
        f"price_node_locked_{interval}",
        quantity=seats,
        period_start=start,
        trial_end=start + trial_days * DAY if trial_days else None,
    )
    uow = SqlUnitOfWork(engine)
    org = admin.create_organization(uow, "Acme", customer=customer)
    admin.import_catalog(uow, CATALOG)
    members = {
        role: admin.add_member(uow, org["id"], f"{role}@acme.example", role)["id"]
        for role in ("owner", "admin", "member")
    }
    gateway = StripeGateway("sk_test_seatflow", server.url, max_network_retries=0)
    deps = deps_on(gateway, StripeTime(state))
    world = MoneyWorld(engine, server, org["id"], customer, members, deps)
    world.deliver()
    return world
