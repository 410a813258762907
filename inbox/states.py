"""The states of a stored event, from its receipt to its last attempt."""

from __future__ import annotations

from enum import StrEnum


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
