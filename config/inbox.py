"""The inbox's one way in: its states, the Stripe event it stores, and the row it writes.

It lives in `config` because the receiver, which may import nothing but `config`, writes
the first row of every event; reconciliation writes the same row for an event Stripe never
delivered, from the same function.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from config.events import THIN_EVENT_OBJECT, is_handled


class InboxState(StrEnum):
    RECEIVED = "received"  # stored, to be applied
    QUEUED = "queued"  # handed to the broker again by the sweeper
    APPLIED = "applied"
    IGNORED = "ignored"  # a type seatflow does not act on, or a no-op
    SKIPPED_STALE = "skipped_stale"  # older than what is already applied
    DEAD = "dead"  # retries exhausted or a broken rule: needs an operator

    @property
    def done(self) -> bool:
        return self in DONE_STATES

    @property
    def pending(self) -> bool:
        return self in PENDING_STATES


DONE_STATES = frozenset({InboxState.APPLIED, InboxState.IGNORED, InboxState.SKIPPED_STALE})
PENDING_STATES = frozenset({InboxState.RECEIVED, InboxState.QUEUED})


def first_state(handled: bool) -> InboxState:
    """A stored event is to be applied if seatflow acts on its type, else ignored at once."""
    return InboxState.RECEIVED if handled else InboxState.IGNORED


class NotAnEvent(ValueError):
    """The body is JSON but not a Stripe event."""


def _epoch(value: Any) -> int | None:
    """Thin events carry `created` as an RFC 3339 time."""
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


@dataclass(frozen=True)
class IncomingEvent:
    """What the inbox keeps of a Stripe event besides its payload."""

    event_id: str
    type: str
    api_version: str | None
    account: str | None
    livemode: bool
    created: int

    @classmethod
    def parse(cls, body: bytes) -> IncomingEvent:
        try:
            data: Any = json.loads(body)
        except ValueError:
            raise NotAnEvent("body is not valid JSON") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> IncomingEvent:
        if not isinstance(data, dict) or data.get("object") not in ("event", THIN_EVENT_OBJECT):
            raise NotAnEvent("body is not a Stripe event object")
        thin = data["object"] == THIN_EVENT_OBJECT
        event_id, event_type, created = data.get("id"), data.get("type"), data.get("created")
        if thin:
            created = _epoch(created)
        if not isinstance(event_id, str) or not event_id.startswith("evt_"):
            raise NotAnEvent("event has no valid id")
        if not isinstance(event_type, str) or not event_type:
            raise NotAnEvent("event has no type")
        if not isinstance(created, int) or isinstance(created, bool):
            raise NotAnEvent("event has no valid created time")
        if thin:
            related = data.get("related_object")
            if not isinstance(related, dict) or not isinstance(related.get("id"), str):
                raise NotAnEvent("thin event has no related_object")
        else:
            data_field = data.get("data")
            if not isinstance(data_field, dict) or not isinstance(data_field.get("object"), dict):
                raise NotAnEvent("event has no data.object")
        account, api_version = data.get("account"), data.get("api_version")
        return cls(
            event_id=event_id[:255],
            type=event_type[:255],
            api_version=api_version if isinstance(api_version, str) else None,
            account=account if isinstance(account, str) else None,
            livemode=bool(data.get("livemode")),
            created=created,
        )


def inbox_row(
    event: IncomingEvent | Mapping[str, Any],
    payload: str,
    received_at: datetime,
    secret_index: int | None,
) -> dict[str, Any]:
    """The inbox row of one event, delivered (`secret_index` of the secret that signed it)
    or fetched from Stripe (None): to be applied if seatflow acts on its type, else ignored."""
    parsed = event if isinstance(event, IncomingEvent) else IncomingEvent.from_dict(event)
    return {
        "event_id": parsed.event_id,
        "type": parsed.type,
        "api_version": parsed.api_version,
        "account": parsed.account,
        "livemode": parsed.livemode,
        "created": parsed.created,
        "payload": payload,
        "received_at": received_at,
        "updated_at": received_at,
        "secret_index": secret_index,
        "state": first_state(is_handled(parsed.type)).value,
        "attempts": 0,
    }
