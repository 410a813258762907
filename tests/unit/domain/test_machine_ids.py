"""A machine id is signed into offline files and names their download: a short, plain id."""

from __future__ import annotations

import pytest

from domain.licenses import InvalidMachineId, check_machine_id


@pytest.mark.parametrize("machine_id", ["build-agent-7", "m", "host.example:01", "A_1" * 21 + "x"])
def test_plain_ids_are_accepted(machine_id) -> None:
    assert check_machine_id(machine_id) == machine_id


@pytest.mark.parametrize(
    "machine_id",
    ["", " m", "m\r\nX: y", 'a"b', "a b", "a;b", "-m", "m" * 65, "é", "m/../x", "a\x00b"],
)
def test_quotes_spaces_line_breaks_and_long_ids_are_refused(machine_id) -> None:
    with pytest.raises(InvalidMachineId) as refused:
        check_machine_id(machine_id)
    assert refused.value.code == "invalid_machine_id"
