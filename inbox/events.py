"""The Stripe event the inbox stores: what the receiver and the worker parse of its body.

The receiver, which may import nothing of the business code, parses every delivery with it;
reconciliation parses an event Stripe never delivered with it too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config.events import THIN_EVENT_OBJECT


class NotAnEvent(ValueError):
    """The body is not a Stripe event the inbox can store."""


# Bounds of what the inbox stores (the columns' sizes); anything outside them is refused
# before the insert, so one bad event never fails the group insert it would share.
MAX_ID = 255
MAX_API_VERSION = 64
# `created` is a Unix time in a BIGINT: from 1970 to the end of the year 9999.
MAX_CREATED = 253_402_300_799


def loads_json(text: str | bytes) -> Any:
    """`json.loads`, with nesting too deep for the parser a ValueError rather than a crash."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def load_payload(text: str) -> Any:
    """The one parse of an event's body, by the receiver and by the worker alike: strict
    JSON text (a byte-order mark is refused; Stripe never sends one)."""
    try:
        return loads_json(text)
    except ValueError as exc:
        raise NotAnEvent(f"body is not valid JSON: {str(exc)[:80]}") from None


def _text(value: Any, name: str, limit: int, optional: bool = False) -> str | None:
    """A string the database can store: not too long, no NUL, encodable as UTF-8."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise NotAnEvent(f"event has no valid {name}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise NotAnEvent(f"event has no valid {name}") from None
    return value


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
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise NotAnEvent("body is not UTF-8") from None
        return cls.from_dict(load_payload(text))

    @classmethod
    def from_dict(cls, data: Any) -> IncomingEvent:
        if not isinstance(data, dict) or data.get("object") not in ("event", THIN_EVENT_OBJECT):
            raise NotAnEvent("body is not a Stripe event object")
        thin = data["object"] == THIN_EVENT_OBJECT
        created = _epoch(data.get("created")) if thin else data.get("created")
        if not isinstance(created, int) or isinstance(created, bool):
            raise NotAnEvent("event has no valid created time")
        if not 0 <= created <= MAX_CREATED:
            raise NotAnEvent("event's created time is out of range")
        event_id = _text(data.get("id"), "id", MAX_ID)
        if event_id is None or not event_id.startswith("evt_"):
            raise NotAnEvent("event has no valid id")
        livemode = data.get("livemode", False)
        if not isinstance(livemode, bool):
            raise NotAnEvent("event's livemode is not a boolean")
        _check_body(data, thin)
        return cls(
            event_id=event_id,
            type=str(_text(data.get("type"), "type", MAX_ID)),
            api_version=_text(data.get("api_version"), "api_version", MAX_API_VERSION, True),
            # A thin (v2) event names its account in `context`, a snapshot event in `account`.
            account=_text(
                data.get("account") or data.get("context"), "account", MAX_ID, optional=True
            ),
            livemode=livemode,
            created=created,
        )


def _check_body(data: dict[str, Any], thin: bool) -> None:
    if thin:
        related = data.get("related_object")
        if not isinstance(related, dict) or not isinstance(related.get("id"), str):
            raise NotAnEvent("thin event has no related_object")
    else:
        data_field = data.get("data")
        if not isinstance(data_field, dict) or not isinstance(data_field.get("object"), dict):
            raise NotAnEvent("event has no data.object")
