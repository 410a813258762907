"""Time passing (renewals, trials ending, cancellation at period end) and changes made in
Stripe's dashboard, which bypass the API: no idempotency key, no proration, no invoice."""

from __future__ import annotations

import copy
from typing import Any

from tests.stripe_model.base import Json, add_interval, invalid, new_id
from tests.stripe_model.subscriptions import Subscriptions, refuse_if_scheduled

STATUSES = ("active", "trialing", "past_due", "unpaid", "canceled", "paused", "incomplete")


class Cycles(Subscriptions):
    def advance(self, seconds: int) -> int:
        """Move Stripe's clock forward and run what falls due: each subscription whose
        period ended renews (a `subscription_cycle` invoice, paid with the default card),
        ends its trial, or is canceled at period end."""
        with self.lock:
            self.clock.advance(seconds)
            self.run_due()
            return self.now()

    def run_due(self) -> None:
        with self.lock:
            for sub in self.all("subscription"):
                while sub["status"] not in ("canceled", "incomplete") and (
                    self.period(sub)[1] <= self.now()
                ):
                    self._renew(sub)

    def _renew(self, sub: Json) -> None:
        before = copy.deepcopy(sub)
        end = self.period(sub)[1]
        if sub["cancel_at_period_end"]:
            sub.update(status="canceled", canceled_at=end, ended_at=end)
            self.emit_updated(sub, before)
            return
        if sub["status"] == "trialing":
            sub["status"] = "active"
        self._phase_change(sub, end)
        anchor, count = sub["billing_cycle_anchor"], 1
        while add_interval(anchor, self._interval(sub), count) <= end:
            count += 1
        self._set_period(sub, end, add_interval(anchor, self._interval(sub), count))
        self.emit_updated(sub, before)
        self._invoice_period(sub, "subscription_cycle", self._pending_for(sub))

    def _phase_change(self, sub: Json, end: int) -> None:
        """The period ending at `end` may start another phase of a schedule (schedules.py)."""

    def subscriptions_cancel(self, sub_id: str, params: Json) -> Json:
        sub = self.get("subscription", sub_id)
        if sub["status"] == "canceled":
            raise invalid(f"No such subscription: '{sub_id}' (it is canceled).")
        refuse_if_scheduled(sub)
        before = copy.deepcopy(sub)
        sub.update(status="canceled", canceled_at=self.now(), ended_at=self.now())
        self.emit_updated(sub, before)
        return sub

    def dashboard_update(
        self,
        sub_id: str,
        *,
        quantity: int | None = None,
        price: str | None = None,
        status: str | None = None,
        cancel_at_period_end: bool | None = None,
        trial_end: int | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Json:
        """Someone edits the subscription in Stripe's dashboard: the first item's quantity or
        price, the status, cancellation at period end, the trial end or metadata. Nothing is
        invoiced; one `customer.subscription.updated` (or `.deleted`) tells the listeners."""
        with self.lock:
            sub = self.get("subscription", sub_id)
            before = copy.deepcopy(sub)
            item = sub["items"]["data"][0]
            if quantity is not None:
                item["quantity"] = quantity
            if price is not None:
                item["price"] = copy.deepcopy(self._recurring_price(price))
            if status is not None:
                if status not in STATUSES:
                    raise ValueError(f"unknown status {status!r}")
                sub["status"] = status
            if cancel_at_period_end is not None:
                sub["cancel_at_period_end"] = cancel_at_period_end
            if trial_end is not None:
                self._start_trial(sub, trial_end, self.period(sub)[0])
            for key, value in (metadata or {}).items():
                if value is None:
                    sub["metadata"].pop(key, None)
                else:
                    sub["metadata"][key] = str(value)
            if sub["status"] == "canceled" and before["status"] != "canceled":
                sub.update(canceled_at=self.now(), ended_at=self.now())
            self.request = {"id": new_id("req"), "idempotency_key": None}
            try:
                self.emit_updated(sub, before)
            finally:
                self.request = {"id": None, "idempotency_key": None}
            return sub
