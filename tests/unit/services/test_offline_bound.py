"""One seat yields one valid offline file at a time: a released license keeps its seat until
its file expires, and files are short-lived (30 days, never past the cycle end), renewed
while the license is active."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.license_signer import verify_file
from domain.licenses import OfflineSeatsExhausted
from domain.model import Member
from services import licenses as license_service
from tests.fakes import TEST_SIGNER, FixedClock, fake_deps
from tests.unit.services.test_licenses import world_with

NOW = datetime(2022, 1, 11, tzinfo=UTC)
CYCLE_END = datetime(2023, 1, 1, tzinfo=UTC)


@pytest.fixture
def world(uow):
    return world_with(uow, fake_deps(FixedClock(NOW)), seats=1, interval="year")


def _admin(world) -> Member:
    return Member(world.admin["id"], world.org_id, world.admin["email"], "admin")


def _at(when: datetime):
    return fake_deps(FixedClock(when))


def _add(uow, world, machine: str, when: datetime = NOW):
    return license_service.activate_offline(
        uow, _at(when), world.org_id, _admin(world), "node_locked", machine
    )


def _cycle(uow, world, machine: str, when: datetime = NOW) -> str:
    """Add a machine, download its file, release it: what a user could repeat."""
    item, _ = _add(uow, world, machine, when)
    text = license_service.license_file(_at(when), item)
    license_service.release_offline(uow, _at(when), world.org_id, _admin(world), item.id)
    return text


def test_add_download_release_does_not_multiply_valid_files(uow, world) -> None:
    files = {"m-1": _cycle(uow, world, "m-1")}
    for machine in ("m-2", "m-3", "m-4"):
        with pytest.raises(OfflineSeatsExhausted):
            files[machine] = _cycle(uow, world, machine)
    valid = [m for m, f in files.items() if verify_file(f, TEST_SIGNER.public_key, m, now=NOW).ok]
    assert valid == ["m-1"]


def test_a_released_seat_frees_when_its_file_expires(uow, world) -> None:
    text = _cycle(uow, world, "m-1")
    expiry = NOW + timedelta(days=30)
    assert verify_file(text, TEST_SIGNER.public_key, "m-1", now=expiry - timedelta(seconds=1)).ok
    assert not verify_file(text, TEST_SIGNER.public_key, "m-1", now=expiry).ok
    with pytest.raises(OfflineSeatsExhausted) as refused:
        _add(uow, world, "m-2", expiry - timedelta(seconds=1))
    assert "2022-02-10" in refused.value.message
    assert _add(uow, world, "m-2", expiry)[1] is True


def test_the_released_machine_may_come_back_on_its_own_seat(uow, world) -> None:
    _cycle(uow, world, "m-1")
    item, created = _add(uow, world, "m-1")
    assert created and item.active


def test_files_are_short_lived_and_renewed_while_active(uow, world) -> None:
    item, _ = _add(uow, world, "m-1")
    assert (item.expires_at, item.version) == (NOW + timedelta(days=30), 1)
    later = NOW + timedelta(days=20)
    renewed = license_service.offline_file(uow, _at(later), world.org_id, item.id)
    assert renewed is not None
    assert (renewed.expires_at, renewed.version) == (later + timedelta(days=30), 2)
    text = license_service.license_file(_at(later), renewed)
    assert verify_file(text, TEST_SIGNER.public_key, "m-1", now=later + timedelta(days=29)).ok
    near_end = CYCLE_END - timedelta(days=3)
    last = license_service.offline_file(uow, _at(near_end), world.org_id, item.id)
    assert last is not None and last.expires_at == CYCLE_END  # never past the cycle
