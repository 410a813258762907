"""While the license signing key is rotated, files signed by the old key and by the new one
both verify where both public keys are trusted: `verify_file` takes several public keys,
and `seatflow license verify` takes `--public-key` more than once, or a file holding one key
a line. A file signed by neither key is still refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.license_signer import LicenseSigner, new_private_key_b64, verify_file
from domain.licenses import License
from tests.unit.cli.test_commands import seatflow

NOW = datetime(2022, 1, 11, tzinfo=UTC)
UNTIL = datetime(2099, 1, 1, tzinfo=UTC)
OLD, NEW, OTHER = (LicenseSigner.from_base64(new_private_key_b64()) for _ in range(3))


def signed_by(signer: LicenseSigner) -> str:
    item = License("lic_1", "org_1", "node_locked", 3, "year", UNTIL, 1, NOW, "created:evt_1")
    return signer.file(item.claims(), signer.sign(item.claims()))


def test_files_of_the_old_and_the_new_key_verify_against_both_public_keys() -> None:
    keys = [NEW.public_key, OLD.public_key]
    assert verify_file(signed_by(OLD), keys, now=NOW).ok
    assert verify_file(signed_by(NEW), keys, now=NOW).ok
    refused = verify_file(signed_by(OTHER), keys, now=NOW)
    assert not refused.ok and "signed by another key" in refused.reason
    assert not verify_file(signed_by(OLD), [NEW.public_key], now=NOW).ok


@pytest.mark.slow  # starts a process
def test_the_command_takes_several_public_keys_or_a_file_of_them(tmp_path: Path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(signed_by(OLD))
    new.write_text(signed_by(NEW))
    both = tmp_path / "keys.pub"
    both.write_text(f"{NEW.public_key}\n{OLD.public_key}\n")
    env = {"PATH": "/usr/bin", "SEATFLOW_ENV": "production"}
    repeated = ("--public-key", NEW.public_key, "--public-key", OLD.public_key)
    for path in (old, new):
        done = seatflow("license", "verify", str(path), *repeated, env=env)
        assert done.returncode == 0, done.stderr
        done = seatflow("license", "verify", str(path), "--public-key", str(both), env=env)
        assert done.returncode == 0, done.stderr
    only_new = seatflow("license", "verify", str(old), "--public-key", NEW.public_key, env=env)
    assert only_new.returncode == 1
