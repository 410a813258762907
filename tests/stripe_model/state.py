"""`StripeState`: the whole fake Stripe account in memory, with no HTTP.

Tests drive it through `StripeServer`, which speaks Stripe's HTTP protocol to the real
`stripe` SDK, and with its helpers, which stand for what happens outside the API: a
customer's card (`create_customer`, `set_card`, `complete_3ds`, `complete_checkout`), time
(`advance`), the dashboard (`dashboard_update`, `dashboard_schedule_update`), existing
objects (`create_price`, `create_subscription`), and assertions (`captured`, `refunded`,
`events_of`, `pending_items`, `invoice_intent`). The helpers take the state's lock, so a
test and the server's threads see one order of events. The API operations (`invoices_pay`,
…) are what the server calls under that lock; a test that calls one directly while the
server runs holds `state.lock` around it.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from tests.stripe_model.base import Json, invalid, missing
from tests.stripe_model.objects import listing
from tests.stripe_model.schedules import Schedules


class StripeState(Schedules):
    """One Stripe account in test mode. `StripeState(Clock(frozen=ts))` fixes Stripe's now."""

    # -- reading ---------------------------------------------------------------------------
    def page(self, items: list[Json], query: Json, url: str) -> Json:
        """One page of a newest-first list, with `limit`, `starting_after`, `ending_before`."""
        items = list(reversed(items))
        limit = _int(query.get("limit", 10), "limit")
        if not 1 <= limit <= 100:
            raise invalid("limit must be between 1 and 100.", param="limit")
        ids = [item["id"] for item in items]
        start, stop = 0, len(items)
        if query.get("starting_after"):
            start = _position(ids, query["starting_after"], "starting_after") + 1
        if query.get("ending_before"):
            stop = _position(ids, query["ending_before"], "ending_before")
            start = max(start, stop - limit)
        chunk = items[start:stop][:limit]
        return listing(chunk, url, has_more=start + len(chunk) < stop)

    def list_objects(self, kind: str, query: Json, url: str, **filters: Any) -> Json:
        """Objects of one kind whose fields equal every filter given (None: not filtered)."""
        with self.lock:
            wanted = {name: value for name, value in filters.items() if value is not None}
            found = [
                obj
                for obj in self.all(kind)
                if all(obj.get(name) == value for name, value in wanted.items())
            ]
            return self.page(found, query, url)

    def subscriptions_list(self, query: Json) -> Json:
        with self.lock:
            status = query.get("status")
            found = [
                sub
                for sub in self.all("subscription")
                if (
                    status == "all"
                    or sub["status"] == status
                    or (status is None and sub["status"] not in ("canceled", "incomplete_expired"))
                )
                and query.get("customer") in (None, sub["customer"])
                and query.get("price")
                in (None, *[item["price"]["id"] for item in sub["items"]["data"]])
            ]
            return self.page(found, query, "/v1/subscriptions")

    def events_list(self, query: Json) -> Json:
        """Stripe's `GET /v1/events`: newest first; `type` (with `*`), `types[]`, `created`
        (a time or `gt`/`gte`/`lt`/`lte`), `delivery_success`."""
        with self.lock:
            found = [event for event in self.events if self._event_matches(event, query)]
            return self.page(found, query, "/v1/events")

    def _event_matches(self, event: Json, query: Json) -> bool:
        types = query.get("types") or ([query["type"]] if query.get("type") else [])
        if types and not any(fnmatch.fnmatchcase(event["type"], t) for t in types):
            return False
        created = query.get("created")
        if isinstance(created, dict):
            bounds = {op: _int(value, f"created[{op}]") for op, value in created.items()}
            checks = {
                "gt": event["created"] > bounds.get("gt", -1),
                "gte": event["created"] >= bounds.get("gte", -1),
                "lt": "lt" not in bounds or event["created"] < bounds["lt"],
                "lte": "lte" not in bounds or event["created"] <= bounds["lte"],
            }
            if not all(checks.values()):
                return False
        elif created is not None and event["created"] != _int(created, "created"):
            return False
        success = query.get("delivery_success")
        return success is None or (event["id"] in self.delivered) == (success == "true")

    def event(self, event_id: str) -> Json:
        with self.lock:
            for event in self.events:
                if event["id"] == event_id:
                    return event
        raise missing("event", event_id)

    def events_of(self, event_type: str) -> list[Json]:
        """Events of one type (a `*` pattern is allowed), oldest first: for assertions."""
        with self.lock:
            return [e for e in self.events if fnmatch.fnmatchcase(e["type"], event_type)]


def _int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid integer: {value}", param=param) from None


def _position(ids: list[str], object_id: str, param: str) -> int:
    if object_id not in ids:
        raise invalid(f"No such object: '{object_id}'", param=param, code="resource_missing")
    return ids.index(object_id)
