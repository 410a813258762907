"""`seatflow catalog import --from-stripe` reads the prices Stripe (here the stateful fake)
holds, by their metadata, so that the catalog and Stripe cannot disagree."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.orm import catalog_prices
from config.database import make_engine
from tests.conftest import env_for
from tests.stripe_model import Clock, StripeServer, StripeState

ROOT = Path(__file__).resolve().parents[2]
PRO = {"license_type": "node_locked", "tier": "professional", "rank": "2", "features": "sso, audit"}


@pytest.fixture
def stripe_fake() -> Iterator[StripeServer]:
    state = StripeState(Clock(frozen=1641859200))
    state.create_price(
        "price_nl_month",
        unit_amount=10000,
        interval="month",
        metadata={"license_type": "node_locked"},
    )
    state.create_price("price_nl_pro_year", unit_amount=200000, interval="year", metadata=PRO)
    state.create_price("price_other", unit_amount=500, interval="month")  # not a catalog price
    state.create_price("price_once", unit_amount=900, interval=None, metadata=PRO)  # one-off
    retired = state.create_price("price_old", unit_amount=1, metadata={"license_type": "floating"})
    retired["active"] = False  # an archived price is no longer sold
    with StripeServer(state) as server:
        yield server


def import_from(server: StripeServer, settings) -> subprocess.CompletedProcess[str]:
    env = env_for(settings, STRIPE_API_BASE=server.url, STRIPE_API_KEY="sk_test_seatflow")
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "catalog", "import", "--from-stripe"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


def test_the_catalog_is_read_from_stripes_prices_by_metadata(stripe_fake, sqlite_settings) -> None:
    done = import_from(stripe_fake, sqlite_settings)
    assert done.returncode == 0, done.stderr
    assert "2 price(s) imported" in done.stdout
    engine = make_engine(sqlite_settings)
    with engine.connect() as conn:
        rows = conn.execute(select(catalog_prices).order_by(catalog_prices.c.rank)).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("node_locked", "standard", "month", 10000, "usd", "price_nl_month", 1, ()),
        ("node_locked", "professional", "year", 200000, "usd", "price_nl_pro_year", 2,
         ("sso", "audit")),
    ]  # fmt: skip


def test_a_price_with_bad_metadata_is_named_and_nothing_is_imported(
    stripe_fake, sqlite_settings
) -> None:
    stripe_fake.state.create_price(
        "price_bad", unit_amount=300, interval="month",
        metadata={"license_type": "floating", "tier": "pro", "rank": "two"},
    )  # fmt: skip
    done = import_from(stripe_fake, sqlite_settings)
    assert done.returncode == 1
    assert "(floating/pro/month): field 'rank' must be a whole number of at least 1" in done.stderr
    engine = make_engine(sqlite_settings)
    with engine.connect() as conn:
        assert conn.execute(select(catalog_prices)).all() == []
    engine.dispose()


@pytest.mark.parametrize(
    ("interval", "count", "reason"),
    [
        ("month", 3, "it is billed every 3 months"),
        ("year", 2, "it is billed every 2 years"),
        ("week", 1, "it is billed every week"),
        ("day", 1, "it is billed every day"),
    ],
)
def test_a_price_seatflow_cannot_bill_is_named_with_the_reason_and_nothing_is_imported(
    stripe_fake, sqlite_settings, interval: str, count: int, reason: str
) -> None:
    odd = stripe_fake.state.create_price(
        "price_quarterly", unit_amount=25000, interval=interval,
        metadata={"license_type": "floating"},
    )  # fmt: skip
    odd["recurring"]["interval_count"] = count
    done = import_from(stripe_fake, sqlite_settings)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: Stripe price price_quarterly (floating): {reason}; seatflow sells monthly "
        "and yearly prices only (interval month or year, interval_count 1)"
    ), done.stderr
    engine = make_engine(sqlite_settings)
    with engine.connect() as conn:
        assert conn.execute(select(catalog_prices)).all() == []
    engine.dispose()


def test_the_example_file_after_stripe_is_refused_naming_the_conflicts_or_replaces_with_a_flag(
    stripe_fake, sqlite_settings
) -> None:
    """Stripe calls rank 2 `Pro`; the example file calls it `professional`: the two cannot
    sit side by side, nor can rank 2 appear twice."""
    [pro] = [p for p in stripe_fake.state.all("price") if p["id"] == "price_nl_pro_year"]
    pro["metadata"]["tier"] = "Pro"
    assert import_from(stripe_fake, sqlite_settings).returncode == 0
    env = env_for(sqlite_settings)
    example = str(ROOT / "cli" / "data" / "catalog.json")

    def seatflow(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            cwd=ROOT, capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip

    def stored() -> list[tuple[str, str, int]]:
        engine = make_engine(sqlite_settings)
        with engine.connect() as conn:
            rows = conn.execute(select(catalog_prices)).all()
        engine.dispose()
        return sorted((r.tier, r.stripe_price_id, r.rank) for r in rows)

    before = stored()
    done = seatflow("catalog", "import", example)
    assert done.returncode == 1
    conflicts = "error: the import conflicts with the stored catalog"
    assert done.stderr.startswith(conflicts), done.stderr
    assert (
        "node_locked rank 2 would be two tiers: 'Pro' (stored) and 'professional' (imported)"
        in done.stderr
    )
    assert "--replace" in done.stderr
    assert stored() == before
    replaced = seatflow("catalog", "import", "--replace", example)
    assert replaced.returncode == 0, replaced.stderr
    assert "12 price(s) imported, replacing the 2 stored" in replaced.stdout, replaced.stdout
    ranks = [(tier, rank) for tier, _, rank in stored()]
    assert len(ranks) == 12 and ("Pro", 2) not in ranks


def test_the_catalog_import_names_a_price_in_an_unknown_currency(
    stripe_fake, sqlite_settings
) -> None:
    odd = stripe_fake.state.create_price(
        "price_odd", unit_amount=2500, interval="month", metadata={"license_type": "floating"}
    )
    odd["currency"] = "xts"
    done = import_from(stripe_fake, sqlite_settings)
    assert done.returncode == 1
    assert "price_odd" in done.stderr and "'xts'" in done.stderr, done.stderr
