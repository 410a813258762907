"""Stripe subscription schedule → typed values (`ScheduleFact`), and its events → the
`SyncSchedule` command. Knows the shapes of Stripe's objects; knows no business rule.

A phase is represented with one price (seatflow's subscriptions have one item); a phase of
several items is refused by name, never taken as something else. Metadata is never read.
"""

from __future__ import annotations

from typing import Any

from domain.renewal import PhaseFact, ScheduleFact, SyncSchedule


class UnrepresentableSchedule(ValueError):
    """A schedule seatflow cannot represent (a phase of several prices)."""


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def _phase(schedule_id: str, phase: dict[str, Any]) -> PhaseFact:
    items = phase.get("items") or []
    if len(items) != 1:
        raise UnrepresentableSchedule(
            f"schedule {schedule_id!r} has a phase of {len(items)} prices: seatflow "
            "represents one price per subscription"
        )
    end = phase.get("end_date")
    return PhaseFact(
        start=int(phase["start_date"]),
        end=int(end) if end else None,
        price_id=str(_id(items[0].get("price")) or ""),
        quantity=int(items[0].get("quantity") or 1),
    )


def schedule_fact(schedule: dict[str, Any]) -> ScheduleFact:
    schedule_id = str(schedule["id"])
    current = schedule.get("current_phase") or {}
    return ScheduleFact(
        schedule_id=schedule_id,
        customer_id=_id(schedule.get("customer")),
        subscription_id=_id(schedule.get("subscription"))
        or _id(schedule.get("released_subscription")),
        status=str(schedule.get("status") or ""),
        current_start=int(current["start_date"]) if current.get("start_date") else None,
        current_end=int(current["end_date"]) if current.get("end_date") else None,
        phases=tuple(_phase(schedule_id, p) for p in schedule.get("phases") or []),
        ended_at=_ended_at(schedule),
    )


def _ended_at(schedule: dict[str, Any]) -> int | None:
    for name in ("released_at", "canceled_at", "completed_at"):
        if schedule.get(name):
            return int(schedule[name])
    return None


def sync_schedule(event: dict[str, Any]) -> SyncSchedule:
    return SyncSchedule(
        schedule=schedule_fact(event["data"]["object"]),
        version=int(event["created"]),
        event_id=str(event.get("id", "")),
    )
