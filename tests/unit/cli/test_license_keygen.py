"""`seatflow license keygen` prints a new signing key for LICENSE_SIGNING_KEY."""

from __future__ import annotations

import subprocess
import sys

import pytest

from adapters.license_signer import LicenseSigner
from tests.support import ROOT

pytestmark = pytest.mark.slow  # every test here starts a process


def keygen() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "license", "keygen"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_keygen_prints_a_new_signing_key_and_its_public_key() -> None:
    first, second = keygen(), keygen()
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    signer = LicenseSigner.from_base64(key)  # a usable LICENSE_SIGNING_KEY
    assert f"public key: {signer.public_key}" in first.stderr
    assert second.stdout.strip() != key
