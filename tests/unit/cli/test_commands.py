"""The `seatflow` command as a user runs it: a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow  # every test here starts a process

SEED = [
    "--old-unit-amount",
    "10000",
    "--old-seats",
    "1",
    "--old-interval",
    "month",
    "--new-unit-amount",
    "100000",
    "--new-seats",
    "1",
    "--new-interval",
    "year",
    "--cycle-start",
    "2022-01-01T00:00:00Z",
]


def seatflow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_surcharge_prints_the_seed_example_as_json() -> None:
    done = seatflow("surcharge", *SEED, "--as-of", "2022-01-11T00:00:00Z")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["amount"], result["next_invoice_at"], result["next_invoice_amount"]) == (
        90486,
        "2023-01-01T00:00:00Z",
        100000,
    )


def test_surcharge_batch_writes_one_result_per_line(tmp_path: Path) -> None:
    case = {
        "old_unit_amount": 10000,
        "old_seats": 1,
        "old_interval": "month",
        "new_unit_amount": 100000,
        "new_seats": 1,
        "new_interval": "year",
        "cycle_start": "2022-01-01T00:00:00Z",
    }
    lines = [
        json.dumps(case | {"as_of": "2022-01-11T00:00:00Z"}),
        json.dumps(case | {"as_of": "2022-01-10T00:00:00Z"}),
        json.dumps(case | {"as_of": "2022-01-10T00:00:00Z", "trial": True}),
        json.dumps(case | {"as_of": "2022-01-11T00:00:00Z", "percent_off": 15}),
        "not json",
        json.dumps({"old_seats": 1}),
    ]
    batch = tmp_path / "cases.jsonl"
    batch.write_text("\n".join(lines) + "\n")
    done = seatflow("surcharge", "--batch", str(batch))
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r.get("amount") for r in results[:4]] == [90486, 90437, 0, 76913]
    assert results[4]["error"]["code"] == "invalid_json"
    assert results[5]["error"]["code"] == "invalid_case"


def test_production_without_settings_is_a_clear_error_naming_the_variable() -> None:
    done = seatflow("events", "list", env={"SEATFLOW_ENV": "production", "PATH": "/usr/bin"})
    assert done.returncode == 2
    assert "DATABASE_URL is required" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_lists_every_command() -> None:
    out = seatflow("--help").stdout
    for command in (
        "dev",
        "db",
        "org",
        "member",
        "token",
        "catalog",
        "discount",
        "surcharge",
        "events",
        "send-sample",
    ):
        assert command in out


def test_an_operator_sets_up_an_organization_from_the_command_line(tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env["SEATFLOW_DATA_DIR"] = str(tmp_path)
    assert seatflow("db", "upgrade", env=env).returncode == 0
    org = json.loads(
        seatflow("org", "create", "--name", "Acme", "--customer", "cus_9", env=env).stdout
    )
    member = json.loads(
        seatflow(
            "member",
            "add",
            "--org",
            org["id"],
            "--email",
            "o@a.example",
            "--role",
            "owner",
            env=env,
        ).stdout
    )
    token = json.loads(seatflow("token", "create", "--member", member["id"], env=env).stdout)
    assert token["token"].startswith("sf_") and token["role"] == "owner"
    catalog = ROOT / "cli" / "data" / "catalog.json"
    assert "12 price(s) imported" in seatflow("catalog", "import", str(catalog), env=env).stdout
    listing = seatflow("catalog", "list", env=env).stdout.splitlines()
    assert listing[0].split() == [
        "floating",
        "standard",
        "1",
        "month",
        "150.00",
        "USD",
        "price_floating_month",
    ]
    assert listing[2].split() == [
        "floating", "professional", "2", "month", "300.00", "USD",
        "price_floating_professional_month", "priority_support,sso",
    ]  # fmt: skip
    bad = seatflow(
        "member", "add", "--org", "org_nope", "--email", "x@y", "--role", "admin", env=env
    )
    assert bad.returncode == 1 and "no organization" in bad.stderr


def test_license_verify_works_offline_and_says_why_a_file_fails(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from domain.licenses import OfflineActivation
    from tests.fakes import TEST_SIGNER

    item = OfflineActivation(
        "off_1",
        "org_1",
        "node_locked",
        "machine-a",
        datetime(2022, 1, 11, tzinfo=UTC),
        datetime(2099, 1, 1, tzinfo=UTC),
    )
    good = tmp_path / "license.json"
    good.write_text(TEST_SIGNER.file(item.claims(), TEST_SIGNER.sign(item.claims())))
    key = tmp_path / "public.key"
    key.write_text(TEST_SIGNER.public_key + "\n")
    # No database, no network: an environment with nothing configured.
    env = {"PATH": "/usr/bin", "SEATFLOW_ENV": "production"}

    ok = seatflow(
        "license",
        "verify",
        str(good),
        "--public-key",
        str(key),
        "--machine-id",
        "machine-a",
        env=env,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("valid: offline license off_1 v1 for org_1")

    edited = tmp_path / "edited.json"
    edited.write_text(good.read_text().replace("2099-01-01", "2199-01-01"))
    cases = [
        ([str(edited), "--machine-id", "machine-a"], "signature does not match"),
        ([str(good), "--machine-id", "machine-b"], "bound to machine 'machine-a'"),
        ([str(good)], "give --machine-id"),
    ]
    for args, reason in cases:
        bad = seatflow("license", "verify", *args, "--public-key", TEST_SIGNER.public_key, env=env)
        assert bad.returncode == 1 and reason in bad.stderr, bad.stderr

    old = OfflineActivation(
        "off_2",
        "org_1",
        "node_locked",
        "machine-a",
        datetime(2020, 1, 1, tzinfo=UTC),
        datetime(2021, 1, 1, tzinfo=UTC),
    )
    expired = tmp_path / "expired.json"
    expired.write_text(TEST_SIGNER.file(old.claims(), TEST_SIGNER.sign(old.claims())))
    bad = seatflow(
        "license",
        "verify",
        str(expired),
        "--public-key",
        TEST_SIGNER.public_key,
        "--machine-id",
        "machine-a",
        env=env,
    )
    assert bad.returncode == 1 and "expired at 2021-01-01T00:00:00Z" in bad.stderr
