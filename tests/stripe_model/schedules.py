"""Subscription schedules: a subscription's terms planned in phases over time.

What the model does, as Stripe does it:
- `POST /v1/subscription_schedules` with `from_subscription` (and no other parameter) makes a
  schedule whose one phase is the subscription's current period and terms (its trial end
  too); the subscription's `schedule` names it. A subscription has at most one schedule.
- `POST /v1/subscription_schedules/{id}` replaces the phases: the current phase keeps its
  start, each later phase starts where the one before ends, every phase but the last has an
  end (the last lasts one cycle of its price if not given). Nothing is invoiced.
- When the clock passes a period's end that starts the next phase, the subscription takes
  that phase's prices and quantities before it renews, so the renewal invoice bills exactly
  the new terms (a new interval starts a new cycle at the phase's start). When the last
  phase ends, the schedule completes and releases the subscription (`end_behavior=release`).
- `release` detaches the schedule (the subscription keeps its terms); `cancel` ends the
  schedule and cancels its subscription at once.
- A subscription managed by a schedule refuses changes to its cancellation.
Each change emits `subscription_schedule.*` (and `customer.subscription.updated` when the
subscription's `schedule` changes). The dashboard edits a phase or releases or cancels a
schedule without the API: no idempotency key.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.stripe_model.base import Json, add_interval, diff, invalid, new_id
from tests.stripe_model.cycles import Cycles

LIVE = ("not_started", "active")


class Schedules(Cycles):
    # -- the API ---------------------------------------------------------------------------
    def subscription_schedules_create(self, params: Json) -> Json:
        sub_id = params.get("from_subscription")
        if not sub_id:
            raise invalid(
                "This model makes schedules from a subscription only: pass from_subscription.",
                param="from_subscription",
            )
        others = set(params) - {"from_subscription", "expand"}
        if others:
            raise invalid(
                "You cannot set other parameters when using `from_subscription`: "
                f"{', '.join(sorted(others))}.",
                param=sorted(others)[0],
            )
        sub = self.get("subscription", sub_id, "from_subscription")
        if sub["status"] == "canceled":
            raise invalid("A canceled subscription cannot be attached to a schedule.")
        if sub.get("schedule"):
            raise invalid(
                "You cannot migrate a subscription that is already attached to a schedule: "
                f"`{sub['schedule']}`.",
                param="from_subscription",
            )
        schedule = self.put(self._schedule_of_subscription(sub))
        self._attach(sub, schedule["id"])
        self.emit("subscription_schedule.created", schedule)
        return schedule

    def subscription_schedules_update(self, schedule_id: str, params: Json) -> Json:
        schedule = self._live_schedule(schedule_id, "update")
        before = copy.deepcopy(schedule)
        if "phases" in params:
            schedule["phases"] = self._phases(schedule, params.get("phases") or [])
            schedule["current_phase"] = self._current(schedule["phases"])
        if params.get("end_behavior"):
            if params["end_behavior"] not in ("release", "cancel"):
                raise invalid("Invalid end_behavior.", param="end_behavior")
            schedule["end_behavior"] = params["end_behavior"]
        for key, value in (params.get("metadata") or {}).items():
            if value in ("", None):
                schedule["metadata"].pop(key, None)
            else:
                schedule["metadata"][key] = str(value)
        if schedule != before:
            self.emit("subscription_schedule.updated", schedule, diff(before, schedule))
        return schedule

    def subscription_schedules_release(self, schedule_id: str, params: Json) -> Json:
        schedule = self._live_schedule(schedule_id, "release")
        sub = self.objects.get(str(schedule["subscription"]))
        schedule.update(
            status="released",
            released_at=self.now(),
            released_subscription=schedule["subscription"],
            subscription=None,
            current_phase=None,
        )
        if sub is not None:
            self._attach(sub, None)
        self.emit("subscription_schedule.released", schedule)
        return schedule

    def subscription_schedules_cancel(self, schedule_id: str, params: Json) -> Json:
        schedule = self._live_schedule(schedule_id, "cancel")
        sub = self.objects.get(str(schedule["subscription"]))
        schedule.update(status="canceled", canceled_at=self.now(), current_phase=None)
        if sub is not None and sub["status"] != "canceled":
            before = copy.deepcopy(sub)
            sub.update(
                status="canceled", canceled_at=self.now(), ended_at=self.now(), schedule=None
            )
            self.emit_updated(sub, before)
        self.emit("subscription_schedule.canceled", schedule)
        return schedule

    # -- the dashboard ---------------------------------------------------------------------
    def dashboard_schedule_update(
        self,
        schedule_id: str,
        *,
        phase: int,
        quantity: int | None = None,
        price: str | None = None,
        remove: bool = False,
    ) -> Json:
        """Someone edits one phase of a schedule in the dashboard (its first item's quantity
        or price), or removes it with every phase after it."""
        with self.lock, self._by_hand():
            schedule = self._live_schedule(schedule_id, "update")
            before = copy.deepcopy(schedule)
            if remove:
                del schedule["phases"][phase:]
            else:
                item = schedule["phases"][phase]["items"][0]
                if quantity is not None:
                    item["quantity"] = quantity
                if price is not None:
                    self._recurring_price(price)
                    item["price"] = price
            self.emit("subscription_schedule.updated", schedule, diff(before, schedule))
            return schedule

    def dashboard_schedule_release(self, schedule_id: str) -> Json:
        with self.lock, self._by_hand():
            return self.subscription_schedules_release(schedule_id, {})

    def dashboard_schedule_cancel(self, schedule_id: str) -> Json:
        with self.lock, self._by_hand():
            return self.subscription_schedules_cancel(schedule_id, {})

    # -- time passing ----------------------------------------------------------------------
    def _phase_change(self, sub: Json, end: int) -> None:
        """The subscription's period ends at `end`: it enters the next phase of its schedule
        (its prices and quantities), or its schedule completes after the last one."""
        schedule = self.objects.get(str(sub.get("schedule")))
        if schedule is None or schedule["status"] not in LIVE:
            return
        phases = schedule["phases"]
        following = next((p for p in phases if p["start_date"] == end), None)
        if following is None:
            if phases and phases[-1]["end_date"] <= end:
                self._complete(schedule, sub)
            return
        before = copy.deepcopy(schedule)
        if self._interval(sub) != self._price_interval(following["items"][0]["price"]):
            sub["billing_cycle_anchor"] = end
        self._take_items(sub, following["items"])
        schedule["current_phase"] = {
            "start_date": following["start_date"],
            "end_date": following["end_date"],
        }
        schedule["status"] = "active"
        self.emit("subscription_schedule.updated", schedule, diff(before, schedule))

    def _complete(self, schedule: Json, sub: Json) -> None:
        schedule.update(
            status="completed",
            completed_at=self.now(),
            released_subscription=sub["id"],
            subscription=None,
            current_phase=None,
        )
        before = copy.deepcopy(sub)
        sub["schedule"] = None
        self.emit_updated(sub, before)
        self.emit("subscription_schedule.completed", schedule)

    # -- helpers ---------------------------------------------------------------------------
    def _schedule_of_subscription(self, sub: Json) -> Json:
        start, end = self.period(sub)
        phase = self._phase(
            [
                {"price": item["price"]["id"], "quantity": item["quantity"]}
                for item in sub["items"]["data"]
            ],
            start,
            end,
            trial_end=sub["trial_end"] if sub["status"] == "trialing" else None,
            proration="create_prorations",
        )
        return {
            "id": new_id("sub_sched"),
            "object": "subscription_schedule",
            "application": None,
            "billing_mode": {"type": "classic"},
            "canceled_at": None,
            "completed_at": None,
            "created": self.now(),
            "current_phase": {"start_date": start, "end_date": end},
            "customer": sub["customer"],
            "default_settings": {
                "billing_cycle_anchor": "automatic",
                "collection_method": "charge_automatically",
                "default_payment_method": None,
                "description": None,
            },
            "end_behavior": "release",
            "livemode": False,
            "metadata": {},
            "phases": [phase],
            "released_at": None,
            "released_subscription": None,
            "status": "active",
            "subscription": sub["id"],
            "test_clock": None,
        }

    def _phase(
        self,
        items: list[Json],
        start: int,
        end: int,
        *,
        trial_end: int | None,
        proration: str,
    ) -> Json:
        currency = self._recurring_price(items[0]["price"])["currency"]
        return {
            "add_invoice_items": [],
            "billing_cycle_anchor": None,
            "collection_method": None,
            "currency": currency,
            "default_payment_method": None,
            "description": None,
            "discounts": [],
            "end_date": end,
            "invoice_settings": None,
            "items": [
                {
                    "discounts": [],
                    "metadata": {},
                    "price": item["price"],
                    "quantity": item["quantity"],
                    "tax_rates": [],
                }
                for item in items
            ],
            "metadata": {},
            "proration_behavior": proration,
            "start_date": start,
            "trial_end": trial_end,
        }

    def _phases(self, schedule: Json, given: list[Json]) -> list[Json]:
        """The phases asked for, checked as Stripe checks them."""
        if not given:
            raise invalid("A schedule needs at least one phase.", param="phases")
        current = schedule["current_phase"] or {}
        start = _stamp(given[0].get("start_date", current.get("start_date")), "phases[0]")
        if current and start != current["start_date"]:
            raise invalid(
                "You cannot change the start date of the current phase.",
                param="phases[0][start_date]",
            )
        phases = []
        for index, phase in enumerate(given):
            param = f"phases[{index}]"
            if index and "start_date" in phase and _stamp(phase["start_date"], param) != start:
                raise invalid("Phases must follow each other.", param=f"{param}[start_date]")
            items = [
                {"price": i.get("price"), "quantity": _count(i.get("quantity", 1), param)}
                for i in phase.get("items") or []
            ]
            if not items:
                raise invalid("A phase needs at least one item.", param=f"{param}[items]")
            for item in items:
                self._recurring_price(str(item["price"]))
            end = self._phase_end(phase, start, items, last=index == len(given) - 1, param=param)
            trial_end = phase.get("trial_end")
            phases.append(
                self._phase(
                    items,
                    start,
                    end,
                    trial_end=_stamp(trial_end, param) if trial_end else None,
                    proration=str(phase.get("proration_behavior") or "create_prorations"),
                )
            )
            start = end
        return phases

    def _phase_end(
        self, phase: Json, start: int, items: list[Json], *, last: bool, param: str
    ) -> int:
        if phase.get("end_date") is None:
            if not last:
                raise invalid("Every phase but the last needs an end_date.", param=param)
            return add_interval(start, self._price_interval(items[0]["price"]))
        end = _stamp(phase["end_date"], param)
        if end <= start:
            raise invalid("A phase must end after it starts.", param=f"{param}[end_date]")
        return end

    def _current(self, phases: list[Json]) -> Json | None:
        now = self.now()
        for phase in phases:
            if phase["start_date"] <= now < phase["end_date"]:
                return {"start_date": phase["start_date"], "end_date": phase["end_date"]}
        return None

    def _take_items(self, sub: Json, items: list[Json]) -> None:
        data = sub["items"]["data"]
        for index, wanted in enumerate(items):
            if index < len(data):
                data[index]["price"] = copy.deepcopy(self._recurring_price(wanted["price"]))
                data[index]["quantity"] = int(wanted["quantity"])
            else:
                self._add_item(sub, wanted["price"], int(wanted["quantity"]))
        del data[len(items) :]

    def _price_interval(self, price_id: str) -> str:
        return str(self._recurring_price(price_id)["recurring"]["interval"])

    def _attach(self, sub: Json, schedule_id: str | None) -> None:
        before = copy.deepcopy(sub)
        sub["schedule"] = schedule_id
        self.emit_updated(sub, before)

    def _live_schedule(self, schedule_id: str, action: str) -> Json:
        schedule = self.get("subscription_schedule", schedule_id)
        if schedule["status"] not in LIVE:
            raise invalid(
                f"You cannot {action} a subscription schedule that is currently in the "
                f"`{schedule['status']}` status."
            )
        return schedule

    def _by_hand(self) -> Any:
        return _DashboardRequest(self)


class _DashboardRequest:
    """A change made in the dashboard: its events carry a request id and no idempotency key."""

    def __init__(self, state: Schedules) -> None:
        self.state = state

    def __enter__(self) -> None:
        self.state.request = {"id": new_id("req"), "idempotency_key": None}

    def __exit__(self, *exc: object) -> None:
        self.state.request = {"id": None, "idempotency_key": None}


def _stamp(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid("Invalid timestamp.", param=param) from None


def _count(value: Any, param: str) -> int:
    try:
        quantity = int(value)
    except (TypeError, ValueError):
        quantity = -1
    if quantity < 0:
        raise invalid("Invalid non-negative integer.", param=f"{param}[items][quantity]")
    return quantity
