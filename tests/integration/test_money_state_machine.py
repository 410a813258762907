"""The upgrade saga as a state machine, against the real services (SQLite) and the stateful
fake Stripe: customers estimate, submit, cancel, pay again and complete 3-D Secure while
Stripe declines, loses answers, fails for a while, and delivers its events late, twice and
out of order. After every step the money stays right:

- what Stripe captured for upgrade invoices, less what it refunded, is what the applied
  upgrades charged (once every event has been delivered; never less before);
- no upgrade is applied without its own paid invoice of the exact amount;
- an upgrade has at most one invoice, and the customer at most one open invoice at a time;
- a discount code is never redeemed beyond its limit;
- every applied upgrade issued exactly one license version.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from sqlalchemy import Engine

from config.database import make_engine
from domain.errors import DomainError
from domain.ports import ChargeUnavailable
from domain.upgrades import UpgradeState
from services import admin, upgrade_payment
from tests.conftest import clean
from tests.money_world import MoneyWorld, money_world
from tests.stripe_model import Clock, StripeApiError, StripeServer, StripeState

pytestmark = pytest.mark.slow
JAN_1 = 1640995200  # 2022-01-01T00:00:00Z
JAN_11 = 1641859200
CODE = "ONCE"
ENGINE: dict[str, Engine] = {}
CARDS = st.sampled_from(["succeeds", "declines", "requires_action"])


class MoneyMachine(RuleBasedStateMachine):
    upgrades = Bundle("upgrades")

    @initialize(target=upgrades, card=CARDS, seats=st.integers(1, 3), annual=st.booleans())
    def start(self, card: str, seats: int, annual: bool) -> str:
        """A customer whose card behaves so, and a first upgrade whose task ran."""
        engine = ENGINE["engine"]
        clean(engine)
        self.server = StripeServer(StripeState(Clock(frozen=JAN_11))).start()
        self.world: MoneyWorld = money_world(engine, self.server, card=card, period_start=JAN_1)
        admin.create_discount(self.world.uow(), CODE, 10, None, None, None, 1)
        self.queue: list[dict[str, Any]] = []
        self.days = 0
        return self.submit_and_charge(seats, annual, code=True)

    def teardown(self) -> None:
        if hasattr(self, "server"):
            self.server.stop()

    # -- what customers do -----------------------------------------------------------------
    @rule(target=upgrades, seats=st.integers(1, 3), annual=st.booleans(), code=st.booleans())
    def submit(self, seats: int, annual: bool, code: bool) -> str:
        try:
            sub = self.world.subscription()
            interval = "year" if annual else sub.interval
            estimate = self.world.estimate(sub.seats + seats, interval, CODE if code else None)
            return self.world.submit(estimate).id
        except DomainError:
            return "none"

    @rule(target=upgrades, seats=st.integers(1, 3), annual=st.booleans(), code=st.booleans())
    def submit_and_charge(self, seats: int, annual: bool, code: bool) -> str:
        """Submitted, and the charge task ran at once."""
        upgrade = self.submit(seats, annual, code)
        if upgrade != "none":
            self.world.charge(upgrade)
        return upgrade

    @rule(upgrade=upgrades)
    def charge(self, upgrade: str) -> None:
        if upgrade != "none":
            self.world.charge(upgrade)

    @rule(upgrade=upgrades)
    def cancel(self, upgrade: str) -> None:
        if upgrade != "none":
            # 409 (already paid, not cancelable), or Stripe is down for the void: retry later
            with contextlib.suppress(DomainError, ChargeUnavailable):
                self.world.cancel(upgrade)

    @rule(upgrade=upgrades)
    def pay_again(self, upgrade: str) -> None:
        if upgrade != "none":
            try:
                self.world.retry(upgrade)
                self.world.charge(upgrade)
            except DomainError:
                pass

    @rule(upgrade=upgrades)
    def complete_3ds(self, upgrade: str) -> None:
        invoice = self.world.upgrade(upgrade).stripe_invoice_id if upgrade != "none" else None
        if invoice:
            with contextlib.suppress(StripeApiError):  # nothing waits for authentication
                self.world.state.complete_3ds(invoice)

    @rule(card=CARDS)
    def change_card(self, card: str) -> None:
        self.world.state.set_card(self.world.customer, card)  # type: ignore[arg-type]

    # -- what Stripe and time do -----------------------------------------------------------
    @rule(fault=st.sampled_from(["lose_pay", "fail_create", "fail_void"]))
    def stripe_fault(self, fault: str) -> None:
        if fault == "lose_pay":
            self.server.lose_answer("/v1/invoices/*/pay")
        elif fault == "fail_create":
            self.server.fail_next("/v1/invoices", "api_error", method="POST")
        else:
            self.server.fail_next("/v1/invoices/*/void", "api_error", method="POST")

    @rule(data=st.data(), duplicate=st.booleans())
    def deliver_some(self, data: st.DataObject, duplicate: bool) -> None:
        self._collect()
        if not self.queue:
            return
        chosen = data.draw(st.lists(st.sampled_from(range(len(self.queue))), unique=True))
        batch = [self.queue[i] for i in chosen]
        self.queue = [e for i, e in enumerate(self.queue) if i not in chosen]
        for event in batch + (batch[:1] if duplicate else []):
            self.world.process(event)

    @rule()
    def settle(self) -> None:
        """Every event delivered in order, the resume job run, applied changes pushed to
        Stripe: the money must add up."""
        self._deliver_all()
        for upgrade_id in self.world.resume():
            self.world.charge(upgrade_id)
        for upgrade in self._all_upgrades():
            self.world.push(upgrade.id)  # no money moves when Stripe takes the change
        self._deliver_all()
        assert self._captured_for_upgrades() == self._applied_charged()

    @precondition(lambda self: self.days < 3)
    @rule()
    def a_day_passes(self) -> None:
        self.days += 1
        self.world.advance(86400)
        upgrade_payment.expire_unpaid(self.world.uow(), self.world.deps)

    # -- what must always hold -------------------------------------------------------------
    @invariant()
    def money_is_never_lost(self) -> None:
        if hasattr(self, "world"):
            assert self._captured_for_upgrades() >= self._applied_charged()

    @invariant()
    def applied_only_with_its_own_paid_invoice(self) -> None:
        for upgrade in self._all_upgrades():
            if upgrade.state != UpgradeState.APPLIED or not upgrade.charged_amount:
                continue
            invoice = self.world.state.get("invoice", upgrade.stripe_invoice_id)
            assert invoice["status"] == "paid"
            assert invoice["amount_paid"] == upgrade.charged_amount == upgrade.paid_amount
            assert invoice["metadata"]["upgrade_id"] == upgrade.id
            assert invoice["customer"] == self.world.customer

    @invariant()
    def one_invoice_per_upgrade(self) -> None:
        if not hasattr(self, "world"):
            return
        ids = [i["metadata"].get("upgrade_id") for i in self.world.invoices()]
        ids = [i for i in ids if i]
        assert len(ids) == len(set(ids))

    @invariant()
    def at_most_one_open_invoice_at_a_time(self) -> None:
        if hasattr(self, "world"):
            assert len(self.world.open_invoices()) <= 1

    @invariant()
    def discount_within_its_limit(self) -> None:
        if not hasattr(self, "world"):
            return
        with self.world.uow() as uow:
            discount = uow.catalog.discount(CODE)
            assert discount is not None
            assert discount.times_redeemed + uow.upgrades.reserved(CODE) <= 1

    @invariant()
    def one_license_version_per_applied_upgrade(self) -> None:
        if not hasattr(self, "world"):
            return
        causes = [lic.cause for lic in self.world.licenses()]
        for upgrade in self._all_upgrades():
            expected = 1 if upgrade.state == UpgradeState.APPLIED else 0
            assert causes.count(f"upgrade:{upgrade.id}") == expected

    # -- helpers ---------------------------------------------------------------------------
    def _collect(self) -> None:
        with self.world.state.lock:
            fresh = self.world.state.events[self.world.delivered :]
            self.world.delivered = len(self.world.state.events)
        self.queue.extend(json.loads(json.dumps(fresh)))

    def _deliver_all(self) -> None:
        self._collect()
        queue, self.queue = self.queue, []
        for event in queue:
            self.world.process(event)

    def _all_upgrades(self) -> list[Any]:
        if not hasattr(self, "world"):
            return []
        from sqlalchemy import select

        from domain.upgrades import Upgrade

        with self.world.uow() as uow:
            return list(uow.session.scalars(select(Upgrade)))

    def _captured_for_upgrades(self) -> int:
        state = self.world.state
        invoices = {i["id"] for i in self.world.invoices() if i["metadata"].get("upgrade_id")}
        return sum(e.amount for e in state.ledger if e.invoice in invoices)

    def _applied_charged(self) -> int:
        return sum(
            u.charged_amount or 0 for u in self._all_upgrades() if u.state == UpgradeState.APPLIED
        )


@pytest.fixture
def machine_engine(sqlite_settings):
    engine = make_engine(sqlite_settings)
    ENGINE["engine"] = engine
    yield engine
    engine.dispose()
    ENGINE.clear()


def test_money_stays_right_whatever_customers_and_stripe_do(machine_engine) -> None:
    random.seed(0)
    run = MoneyMachine.TestCase
    run.settings = settings(
        max_examples=int(os.environ.get("MONEY_EXAMPLES", "12")),
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=os.environ.get("MONEY_RANDOM") is None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    run().runTest()
