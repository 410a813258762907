"""The inbox row of an event: written by the receiver, and by reconciliation for an event
Stripe never delivered, from the same function."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from config.events import is_handled
from inbox.events import IncomingEvent
from inbox.states import first_state


def inbox_row(
    event: IncomingEvent | Mapping[str, Any],
    payload: str,
    received_at: datetime,
    secret_index: int | None,
    refused: str | None = None,
) -> dict[str, Any]:
    """The inbox row of one event, delivered (`secret_index` of the secret that signed it)
    or fetched from Stripe (None): to be applied if seatflow acts on its type, else ignored;
    ignored too, with the reason, if `refused` says why it is not this service's."""
    parsed = event if isinstance(event, IncomingEvent) else IncomingEvent.from_dict(event)
    handled = is_handled(parsed.type) and refused is None
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
        "state": first_state(handled).value,
        "attempts": 0,
        "last_error": refused,
    }
