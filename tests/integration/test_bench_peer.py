"""The peer the receiver benchmark measures beside seatflow really does its work: installed
from its lock file, it accepts the benchmarks' signed full-size events and keeps each
subscription's last seats in PostgreSQL (so its throughput is that of real upserts)."""

from __future__ import annotations

import pytest

from bench import peer

pytestmark = pytest.mark.slow


def test_the_peer_upserts_every_full_size_event_it_is_sent() -> None:
    found = peer.check(30, orgs=5)
    assert found["subscriptions"] == 5 and found["items"] == 5
    assert found["seats"] == found["expected_seats"] == 5 * 6
