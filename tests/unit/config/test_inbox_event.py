"""What the inbox stores is checked before it is stored: a field that can never be stored
is NotAnEvent (the receiver's 400), never a failed insert."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cli import samples
from inbox.events import IncomingEvent, NotAnEvent, load_payload


def event(**fields: Any) -> dict[str, Any]:
    base = samples.event(
        "customer.subscription.updated",
        samples.subscription_object(customer="cus_v"),
        event_id="evt_valid",
        created=1_700_000_000,
    )
    return {**base, **fields}


def body(**fields: Any) -> bytes:
    return json.dumps(event(**fields)).encode()


def test_a_well_formed_event_is_parsed() -> None:
    parsed = IncomingEvent.parse(body(account="acct_1", livemode=True))
    assert (parsed.event_id, parsed.created) == ("evt_valid", 1_700_000_000)
    assert (parsed.account, parsed.livemode) == ("acct_1", True)


@pytest.mark.parametrize(
    "fields",
    [
        {"created": 10**30},
        {"created": 2**63},
        {"created": -1},
        {"created": 253_402_300_800},  # after the year 9999
        {"created": 1.5},
        {"id": "evt_" + "x" * 252},  # over the column's 255 characters
        {"id": "evt_\u0000"},
        {"id": "evt_\ud800"},  # a lone surrogate cannot be encoded
        {"type": "t" * 256},
        {"type": "invoice.paid\u0000"},
        {"api_version": "v" * 65},
        {"api_version": 20240620},
        {"account": "acct_" + "a" * 251},
        {"account": 42},
        {"livemode": "false"},  # a string would read as true
        {"livemode": 1},
    ],
)
def test_a_field_the_inbox_cannot_store_is_not_an_event(fields: dict[str, Any]) -> None:
    with pytest.raises(NotAnEvent):
        IncomingEvent.parse(body(**fields))


def test_json_nested_too_deeply_is_not_an_event() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(NotAnEvent, match="nested"):
        IncomingEvent.parse(deep)


def test_a_body_with_a_byte_order_mark_is_not_an_event() -> None:
    with pytest.raises(NotAnEvent):
        IncomingEvent.parse(b"\xef\xbb\xbf" + body())


def test_what_the_receiver_parses_the_worker_parses_the_same_way() -> None:
    text = body().decode()
    assert load_payload(text) == json.loads(text)
    with pytest.raises(NotAnEvent):
        load_payload("\ufeff" + text)
