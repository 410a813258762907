"""A failing `seatflow` command says what failed in one line, with a hint; `--debug` shows the
traceback instead."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

UNREACHABLE_DB = "postgresql://postgres@127.0.0.1:9/nothing"  # the discard port: refused


def seatflow(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    environ.update(SEATFLOW_DATA_DIR=str(data_dir), WORKER_METRICS_PORT="0", **env)
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=90,
    )


def one_line_with_hint(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "hint:" in lines[0], lines[0]
    return lines[0]


@pytest.mark.slow  # starts a process
def test_an_unreachable_database_is_one_line_with_a_hint(tmp_path: Path) -> None:
    line = one_line_with_hint(
        seatflow("catalog", "list", data_dir=tmp_path, DATABASE_URL=UNREACHABLE_DB)
    )
    assert line.startswith("error: cannot reach the database")
    assert "DATABASE_URL" in line


@pytest.mark.slow  # starts a process
def test_a_database_without_tables_says_to_run_the_migrations(tmp_path: Path) -> None:
    line = one_line_with_hint(seatflow("catalog", "list", data_dir=tmp_path))
    assert "no seatflow tables" in line
    assert "seatflow db upgrade" in line


def the_problem_with_a_hint(done: subprocess.CompletedProcess[str]) -> str:
    """A configuration's one problem: the line under the header, with a hint."""
    assert done.returncode == 2, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith("configuration error: seatflow cannot start: 1 problem(s)")
    assert "hint:" in lines[1], lines[1]
    return lines[1].removeprefix("  - ")


@pytest.mark.slow  # starts a process
def test_a_database_url_of_another_kind_is_named_with_a_hint(tmp_path: Path) -> None:
    done = seatflow("catalog", "list", data_dir=tmp_path, DATABASE_URL="mysql://a@b/c")
    line = the_problem_with_a_hint(done)
    assert line.startswith("DATABASE_URL")
    assert "'mysql'" in line


@pytest.mark.slow  # starts a process
def test_an_unreachable_broker_is_one_line_with_a_hint(tmp_path: Path) -> None:
    done = seatflow(
        "dev", "--port", "9", data_dir=tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:9/0"
    )
    line = one_line_with_hint(done)
    assert line.startswith("error: cannot reach the broker")
    assert "CELERY_BROKER_URL" in line


@pytest.mark.slow  # starts a process
@pytest.mark.parametrize("scheme", ["nats", "kafka", "sqs"])
def test_a_broker_url_of_an_unknown_kind_is_named_with_a_hint(tmp_path: Path, scheme) -> None:
    # nats is no kombu transport; kafka and sqs are, but not brokers seatflow runs on.
    url = f"{scheme}://broker.example"
    done = seatflow("dev", "--port", "9", data_dir=tmp_path, CELERY_BROKER_URL=url)
    line = the_problem_with_a_hint(done)
    assert line.startswith("CELERY_BROKER_URL: seatflow sends its tasks")
    assert f"not {scheme!r}" in line


@pytest.mark.slow  # starts a process
def test_a_bad_catalog_entry_is_named_with_its_field(tmp_path: Path) -> None:
    assert seatflow("db", "upgrade", data_dir=tmp_path).returncode == 0
    entry = {"license_type": "floating", "interval": "month", "currency": "usd"}
    good = entry | {"unit_amount": 100, "stripe_price_id": "price_a"}
    bad = entry | {"interval": "week", "unit_amount": 100, "stripe_price_id": "price_b"}
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps([good, bad]))
    done = seatflow("catalog", "import", str(catalog), data_dir=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: catalog entry 2 (floating/week): field 'interval' must be 'month' or 'year'"
    )
    catalog.write_text(json.dumps([good | {"unit_amount": "ten"}]))
    done = seatflow("catalog", "import", str(catalog), data_dir=tmp_path)
    assert "catalog entry 1 (floating/month): field 'unit_amount'" in done.stderr
    catalog.write_text(json.dumps([{"license_type": "floating", "interval": "year"}]))
    done = seatflow("catalog", "import", str(catalog), data_dir=tmp_path)
    assert "catalog entry 1 (floating/year): field 'unit_amount' is missing" in done.stderr


@pytest.mark.slow  # starts a process
def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = seatflow("--debug", "catalog", "list", data_dir=tmp_path, DATABASE_URL=UNREACHABLE_DB)
    assert done.returncode != 0
    assert "Traceback (most recent call last)" in done.stderr
    assert "OperationalError" in done.stderr


@pytest.mark.slow  # starts a process
def test_version_names_the_installed_version(tmp_path: Path) -> None:
    from importlib import metadata

    done = seatflow("--version", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"seatflow {metadata.version('seatflow')}"


def test_stripe_unreachable_is_one_line_with_a_hint() -> None:
    from adapters.stripe_errors import StripeUnavailable
    from cli.main import _one_line

    error = StripeUnavailable(
        "APIConnectionError: Unexpected error communicating with Stripe.  If this problem "
        "persists,\nlet us know at support@stripe.com."
    )
    message, status = _one_line(error)
    assert (message, status) == (
        "error: Stripe is unreachable (APIConnectionError: Unexpected error communicating with "
        "Stripe); hint: check the network, STRIPE_API_BASE and STRIPE_API_KEY, then run it again",
        1,
    )


@pytest.mark.slow  # starts a process
def test_a_dotenv_file_saying_production_is_refused_not_run_on(tmp_path: Path) -> None:
    """The shell does not set SEATFLOW_ENV: the command must not take production, nor the
    live key, from the working directory's .env."""
    (tmp_path / ".env").write_text(
        "SEATFLOW_ENV=production\nSTRIPE_API_KEY=sk_live_51Hx2fromTheFile0123456789abcdef\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    environ.pop("SEATFLOW_ENV", None)
    environ.update(PYTHONPATH=str(ROOT), SEATFLOW_DATA_DIR=str(tmp_path / "var"))
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "org", "list"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("configuration error:"), done.stderr
    assert ".env" in done.stderr and "sk_live_" not in done.stderr


@pytest.mark.slow  # starts a process
def test_the_configuration_problems_are_printed_one_a_line(tmp_path: Path) -> None:
    done = seatflow(
        "org",
        "list",
        data_dir=tmp_path,
        DATABASE_URL="mysql://a@b/c",
        STRIPE_WEBHOOK_TOLERANCE="-1",
        CELERY_BROKER_URL="memory://",
        SEATFLOW_ENV="production",
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("configuration error: seatflow cannot start"), lines
    assert all(line.startswith("  - ") for line in lines[1:]), lines
    named = [line.removeprefix("  - ").split()[0].rstrip(":") for line in lines[1:]]
    for name in ("DATABASE_URL", "STRIPE_WEBHOOK_TOLERANCE", "CELERY_BROKER_URL"):
        assert name in named, lines


@pytest.mark.slow  # starts a process
def test_the_command_refuses_a_broker_the_processes_refuse(tmp_path: Path) -> None:
    done = seatflow("org", "list", data_dir=tmp_path, CELERY_BROKER_URL="kafka://k:9092")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "CELERY_BROKER_URL" in done.stderr and "'kafka'" in done.stderr
