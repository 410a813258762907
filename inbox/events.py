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


def _mode(live: bool) -> str:
    return "live mode" if live else "test mode"


@dataclass(frozen=True)
class Origin:
    """The Stripe mode (from the API key) and Connect account (STRIPE_ACCOUNT; None: the
    platform's own) this service acts for; an event of any other is never applied."""

    livemode: bool = False
    account: str | None = None

    def refuses(self, event: IncomingEvent) -> str | None:
        """Why `event` is not ours, or None if it is."""
        if event.livemode != self.livemode:
            return (
                f"not applied: a {_mode(event.livemode)} event, and this service runs in "
                f"{_mode(self.livemode)} (from its API key)"
            )
        if event.account != self.account:
            return (
                f"not applied: an event of account {event.account or '(platform)'}, and this "
                f"service acts for {self.account or 'the platform account'} (STRIPE_ACCOUNT)"
            )
        return None


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
