"""What a message takes on from the backlog is admitted under its row locks, so the door
admits it only when no Stripe read is needed: a schedule event (always re-read) or any event
when every event is re-read from Stripe is left to its own message."""

from __future__ import annotations

import json

from adapters.stripe_door import StripeReads
from domain.commands import SyncSubscription
from inbox.origin import Origin
from tests.builders import subscription_event
from tests.fakes import FakeGateway
from tests.unit.adapters.test_schedule_parsing import SCHEDULE, event


class _NoReads(FakeGateway):
    def retrieve(self, object_type: str, object_id: str) -> dict:
        raise AssertionError(f"read {object_type} {object_id} under a lock")


def test_a_subscription_event_is_admitted_without_a_read() -> None:
    door = StripeReads(_NoReads(), Origin(), False)
    admitted = door.admit_without_reads(json.dumps(subscription_event("cus_1", seats=3)))
    assert admitted is not None
    assert isinstance(admitted.command, SyncSubscription)
    assert admitted.command.snapshot.seats == 3


def test_an_event_that_needs_a_read_is_not_admitted_and_nothing_is_read() -> None:
    door = StripeReads(_NoReads(), Origin(), False)
    assert door.admit_without_reads(json.dumps(event(SCHEDULE))) is None


def test_with_every_event_re_read_from_stripe_none_is_admitted_without_a_read() -> None:
    door = StripeReads(_NoReads(), Origin(), True)
    assert door.admit_without_reads(json.dumps(subscription_event("cus_1", seats=3))) is None
