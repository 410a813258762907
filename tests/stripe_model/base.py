"""The fake Stripe's foundations: its clock, calendar cycles, ids, errors and object store.

Everything here is plain Python and in memory; the HTTP layer (`server.py`) and the
operations (`customers.py`, `invoices.py`, `payments.py`, `subscriptions.py`) build on it.
"""

from __future__ import annotations

import calendar
import copy
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Json = dict[str, Any]
# What a customer's card does when it is charged.
Behaviour = Literal["succeeds", "declines", "requires_action"]
API_VERSION = "2026-07-29.dahlia"


class Clock:
    """Stripe's "now" in Unix seconds: real time plus an offset, or frozen at a value."""

    def __init__(self, frozen: int | None = None) -> None:
        self.frozen = frozen
        self.offset = 0

    def now(self) -> int:
        if self.frozen is not None:
            return self.frozen
        return int(time.time()) + self.offset

    def advance(self, seconds: int) -> int:
        if self.frozen is not None:
            self.frozen += seconds
        else:
            self.offset += seconds
        return self.now()


def add_interval(start: int, interval: str, count: int = 1) -> int:
    """`start` plus `count` calendar months or years (Jan 31 + 1 month = Feb 28/29), or days."""
    moment = datetime.fromtimestamp(start, UTC)
    if interval == "day":
        return start + 86400 * count
    if interval == "week":
        return start + 7 * 86400 * count
    months = count * (12 if interval == "year" else 1)
    if interval not in ("month", "year"):
        raise ValueError(f"unknown interval {interval!r}")
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


_counter = itertools.count(1)


def new_id(prefix: str) -> str:
    """An id shaped like Stripe's (`in_1Q…`): prefix, a sequence, then randomness."""
    return f"{prefix}_1Fk{next(_counter):06d}{secrets.token_hex(6)}"


@dataclass
class StripeApiError(Exception):
    """An error answer, shaped as Stripe's so the SDK raises the matching exception class.

    `stored` is False for requests rejected before an endpoint began (malformed
    parameters): Stripe does not keep an idempotent result for those.
    """

    status: int
    type: str
    message: str
    code: str | None = None
    param: str | None = None
    decline_code: str | None = None
    extra: Json = field(default_factory=dict)
    stored: bool = True

    def body(self) -> Json:
        error: Json = {"type": self.type, "message": self.message}
        for name in ("code", "param", "decline_code"):
            if getattr(self, name) is not None:
                error[name] = getattr(self, name)
        error.update(self.extra)
        return {"error": error}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeApiError:
    return StripeApiError(400, "invalid_request_error", message, code=code, param=param)


def missing(kind: str, object_id: str, param: str = "id") -> StripeApiError:
    error = StripeApiError(404, "invalid_request_error", f"No such {kind}: '{object_id}'")
    error.code, error.param = "resource_missing", param
    return error


def malformed(message: str, param: str | None = None) -> StripeApiError:
    error = invalid(message, param=param, code="parameter_missing" if param else None)
    error.stored = False
    return error


def diff(before: Any, after: Any) -> Json:
    """Stripe's `previous_attributes`: the old value of every changed field (dicts deeply)."""
    changed: Json = {}
    for key in set(before) | set(after):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and key != "items":
            changed[key] = diff(old, new)
        else:
            changed[key] = copy.deepcopy(old)
    return changed


@dataclass
class LedgerEntry:
    """Money that moved: a capture (positive) or a refund (negative), in minor units."""

    kind: Literal["capture", "refund"]
    amount: int
    currency: str
    customer: str | None
    invoice: str | None
    payment_intent: str
    charge: str
    refund: str | None = None
    at: int = 0


class Store:
    """The objects by id, the events (oldest first) and the ledger, under one lock."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self.objects: dict[str, Json] = {}
        self.events: list[Json] = []
        self.delivered: set[str] = set()
        self.ledger: list[LedgerEntry] = []
        self.behaviours: dict[str, Behaviour] = {}  # payment method id → card behaviour
        self.decline_codes: dict[str, str] = {}
        self.endpoint_count = 0
        self.base_url = ""  # where the hosted pages are served (set by StripeServer)
        # The request an API operation runs for: its id and idempotency key go on events.
        self.request: Json = {"id": None, "idempotency_key": None}

    def now(self) -> int:
        return self.clock.now()

    def hosted(self, path: str, stripe_host: str) -> str:
        """A hosted page's address: on the fake server when it runs, else Stripe's."""
        return f"{self.base_url or stripe_host}{path}"

    def get(self, kind: str, object_id: Any, param: str = "id") -> Json:
        found = self.objects.get(str(object_id))
        if found is None or found.get("object") != kind:
            raise missing(kind, str(object_id), param)
        return found

    def all(self, kind: str) -> list[Json]:
        return [obj for obj in self.objects.values() if obj.get("object") == kind]

    def put(self, obj: Json) -> Json:
        self.objects[obj["id"]] = obj
        return obj

    def emit(self, event_type: str, obj: Json, previous: Json | None = None) -> Json:
        """Record an event with a snapshot of `obj` as it is now (signed only when sent)."""
        data: Json = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event: Json = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": self.endpoint_count,
            "request": dict(self.request),
            "type": event_type,
        }
        self.events.append(event)
        return event
