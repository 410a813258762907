"""The upgrade state machine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import InvalidTransition
from domain.upgrades import TRANSITIONS, Upgrade, UpgradeState

S = UpgradeState
NOW = datetime(2022, 1, 11, tzinfo=UTC)


def upgrade(state: UpgradeState) -> Upgrade:
    return Upgrade(
        id="upg_1",
        organization_id="org",
        license_type="node_locked",
        estimate_id="est",
        from_seats=1,
        from_interval="month",
        seats=2,
        interval="month",
        currency="usd",
        estimate_amount=100,
        state=state.value,
        created_at=NOW,
        updated_at=NOW,
    )


# In the enum's order, not a set's (which changes from one process to the next).
ALLOWED = [(a, b) for a in S for b in S if b in TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a in S for b in S if a is not b and b not in TRANSITIONS[a]]


@pytest.mark.parametrize("start, end", ALLOWED)
def test_allowed_transitions_are_recorded_with_time_and_cause(start, end) -> None:
    u = upgrade(start)
    assert u.move(end, NOW, "because") is True
    assert u.state == end.value
    assert (u.history[-1].from_state, u.history[-1].to_state, u.history[-1].cause) == (
        start.value,
        end.value,
        "because",
    )


@pytest.mark.parametrize("start, end", FORBIDDEN)
def test_forbidden_transitions_raise(start, end) -> None:
    with pytest.raises(InvalidTransition):
        upgrade(start).move(end, NOW, "no")


def test_moving_to_the_current_state_is_a_no_op() -> None:
    u = upgrade(S.AWAITING_PAYMENT)
    assert u.move(S.AWAITING_PAYMENT, NOW, "again") is False
    assert u.history == []


def test_nothing_leaves_applied_and_only_a_payment_leaves_failure_states() -> None:
    assert TRANSITIONS[S.APPLIED] == TRANSITIONS[S.REFUNDED] == frozenset()
    # A payment applies an expired upgrade; a canceled one's payment is given back.
    assert TRANSITIONS[S.EXPIRED] == {S.PAID, S.REFUNDED}
    assert TRANSITIONS[S.CANCELED] == {S.REFUNDED}
    assert S.APPLIED in TRANSITIONS[S.PAID]
    assert all(S.APPLIED not in TRANSITIONS[s] for s in S if s is not S.PAID)


def test_drift_is_estimate_minus_charge() -> None:
    u = upgrade(S.CHARGING)
    assert u.drift is None
    u.record_charge(90496)
    assert u.drift == 100 - 90496


def test_a_long_cause_is_kept_shortened_to_what_the_history_holds() -> None:
    from domain.upgrades import MAX_CAUSE

    charging = upgrade(UpgradeState.CHARGING)
    charging.move(UpgradeState.PAYMENT_FAILED, NOW, "Stripe unavailable (network): " + "x" * 500)
    cause = charging.history[-1].cause
    assert len(cause) == MAX_CAUSE and cause.endswith("…")
    assert cause.startswith("Stripe unavailable (network): ")
