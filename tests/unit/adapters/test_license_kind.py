"""Verifying a license file checks that it is the kind the caller verifies: a machine id
means an offline license, and a subscription license never passes as one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.license_signer import verify_file
from domain.licenses import License, OfflineActivation
from tests.fakes import TEST_SIGNER
from tests.unit.cli.test_commands import seatflow

NOW = datetime(2022, 1, 11, tzinfo=UTC)
UNTIL = datetime(2099, 1, 1, tzinfo=UTC)


def subscription_file() -> str:
    item = License("lic_1", "org_1", "node_locked", 3, "year", UNTIL, 1, NOW, "created:evt_1")
    return TEST_SIGNER.file(item.claims(), TEST_SIGNER.sign(item.claims()))


def offline_file() -> str:
    item = OfflineActivation("off_1", "org_1", "node_locked", "machine-a", NOW, UNTIL)
    return TEST_SIGNER.file(item.claims(), TEST_SIGNER.sign(item.claims()))


def test_a_machine_id_is_refused_for_a_subscription_license() -> None:
    verdict = verify_file(subscription_file(), TEST_SIGNER.public_key, "anything", now=NOW)
    assert not verdict.ok
    assert verdict.reason == "this is a subscription license, not an offline license"


def test_the_kind_asked_for_must_be_the_kind_of_the_file() -> None:
    key = TEST_SIGNER.public_key
    assert verify_file(subscription_file(), key, kind="subscription", now=NOW).ok
    assert verify_file(offline_file(), key, "machine-a", kind="offline", now=NOW).ok
    wrong = verify_file(offline_file(), key, kind="subscription", now=NOW)
    assert (wrong.ok, wrong.reason) == (
        False,
        "this is an offline license, not a subscription license",
    )
    unbound = verify_file(subscription_file(), key, kind="offline", now=NOW)
    assert not unbound.ok and "not an offline license" in unbound.reason
    both = verify_file(subscription_file(), key, "machine-a", kind="subscription", now=NOW)
    assert not both.ok and "bound to no machine" in both.reason


@pytest.mark.slow  # starts a process
def test_the_command_refuses_a_subscription_license_given_a_machine_id(tmp_path: Path) -> None:
    path = tmp_path / "license.json"
    path.write_text(subscription_file())
    env = {"PATH": "/usr/bin", "SEATFLOW_ENV": "production"}
    key = ("--public-key", TEST_SIGNER.public_key)
    bad = seatflow("license", "verify", str(path), *key, "--machine-id", "x", env=env)
    assert bad.returncode == 1
    assert "subscription license, not an offline license" in bad.stderr
    good = seatflow("license", "verify", str(path), *key, "--kind", "subscription", env=env)
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("valid: subscription license lic_1 v1 for org_1")
