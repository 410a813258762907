"""What the receiver stores: a Stripe event, recognised from its JSON body.

The writing itself is in webhooks/writer.py (one grouped, idempotent INSERT).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config.events import THIN_EVENT_OBJECT


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
        account = data.get("account")
        return cls(
            event_id=event_id[:255],
            type=event_type[:255],
            api_version=data.get("api_version")
            if isinstance(data.get("api_version"), str)
            else None,
            account=account if isinstance(account, str) else None,
            livemode=bool(data.get("livemode")),
            created=created,
        )
