"""The upgrade states' groups are stated once, in the domain, and everything else asks them."""

from __future__ import annotations

from adapters.orm import OPEN_UPGRADE
from domain.upgrades import OPEN_STATES, TRANSITIONS, UNPAID_STATES, Upgrade, UpgradeState

S = UpgradeState


def test_an_open_upgrade_is_one_whose_saga_can_still_move_without_a_person() -> None:
    assert {S.REQUESTED, S.CHARGING, S.AWAITING_PAYMENT, S.REQUIRES_ACTION, S.PAID} == OPEN_STATES
    assert all(TRANSITIONS[state] for state in OPEN_STATES)


def test_an_unpaid_upgrade_is_one_whose_invoice_may_still_be_paid() -> None:
    assert {S.AWAITING_PAYMENT, S.REQUIRES_ACTION, S.PAYMENT_FAILED} == UNPAID_STATES
    assert all(S.PAID in TRANSITIONS[state] for state in UNPAID_STATES)


def test_the_one_open_upgrade_index_is_generated_from_the_open_states() -> None:
    named = {part.strip(" '") for part in OPEN_UPGRADE.removeprefix("state IN (")[:-1].split(",")}
    assert named == {state.value for state in OPEN_STATES}


def test_the_migrated_index_says_the_same_as_the_domain() -> None:
    """The migration that made the index is history; it must still agree with the domain."""
    from pathlib import Path

    migration = Path(__file__).parents[3] / "migrations/versions/0007_money_safe_upgrades.py"
    assert f'NEW_OPEN = "{OPEN_UPGRADE}"' in migration.read_text()


def test_a_page_stops_watching_an_upgrade_once_it_is_not_open() -> None:
    from types import SimpleNamespace

    assert Upgrade.is_open.fget is not None
    for state in S:
        assert Upgrade.is_open.fget(SimpleNamespace(state=state)) is (state in OPEN_STATES)
