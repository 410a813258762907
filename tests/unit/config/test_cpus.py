"""Which CPU each web worker keeps to (WEB_PIN_CPUS)."""

from __future__ import annotations

import pytest

from config.cpus import least_used, pins
from config.settings import Settings


def test_workers_spread_one_per_cpu_then_round_again() -> None:
    taken: list[int | None] = []
    for _ in range(5):
        taken.append(least_used({4, 2, 7}, taken))
    assert taken == [2, 4, 7, 2, 4]


def test_a_replacement_takes_the_cpu_its_predecessor_left() -> None:
    assert least_used([0, 1, 2], [0, 2]) == 1
    assert least_used([0, 1], [None, 1]) == 0  # a worker started unpinned counts for none


@pytest.mark.parametrize(
    ("raw", "setting"), [(None, None), ("auto", None), ("false", False), ("TRUE", True)]
)
def test_the_setting_reads_auto_true_or_false(raw, setting) -> None:
    env = {} if raw is None else {"WEB_PIN_CPUS": raw}
    assert Settings.from_env(env).web_pin_cpus is setting


def test_auto_pins_a_group_with_a_worker_for_every_cpu_and_no_smaller_one() -> None:
    assert pins(None, workers=2, cpus=2) and pins(None, workers=3, cpus=2)
    assert not pins(None, workers=2, cpus=64)  # CPUs would stand idle, others pin alike
    assert pins(True, workers=1, cpus=64) and not pins(False, workers=8, cpus=2)
