"""Catalog entries with tiers: how they are read, checked and ranked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.catalog import Catalog
from domain.catalog_entries import parse_catalog
from domain.errors import BadCatalogEntry, TierCannotDecrease

ROOT = Path(__file__).resolve().parents[3]


def entry(**kw: object) -> dict[str, object]:
    return {
        "license_type": "node_locked",
        "interval": "month",
        "unit_amount": 10000,
        "currency": "USD",
        "stripe_price_id": "price_nl_month",
    } | kw


def test_an_entry_without_a_tier_is_standard_rank_1() -> None:
    [price] = parse_catalog([entry()])
    assert (price.tier, price.rank, price.features, price.currency) == ("standard", 1, (), "usd")


def test_a_tier_carries_its_rank_and_features() -> None:
    [price] = parse_catalog([entry(tier="professional", rank=2, features=["sso"])])
    assert (price.tier, price.rank, price.features) == ("professional", 2, ("sso",))


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"license_type": "x"}, "a catalog is a list of entries"),
        (["nope"], "catalog entry 1: expected an object"),
        (
            [entry(), entry(interval="week", stripe_price_id="p2")],
            "catalog entry 2 (node_locked/week): field 'interval' must be 'month' or 'year'",
        ),
        (
            [entry(unit_amount=None)],
            "catalog entry 1 (node_locked/month): field 'unit_amount' must be a whole number "
            "of at least 0",
        ),
        (
            [entry(tier="pro", rank=0)],
            "catalog entry 1 (node_locked/pro/month):"
            " field 'rank' must be a whole number of at least 1",
        ),
        ([entry(rank=True)], "field 'rank' must be a whole number"),
        ([entry(features="sso")], "field 'features' must be a list of non-empty strings"),
        ([{k: v for k, v in entry().items() if k != "currency"}], "field 'currency' is missing"),
        ([entry(currency="dollars")], "field 'currency' must be a three-letter ISO code"),
        ([entry(teir="pro")], "field 'teir' is not a catalog field"),
        ([entry(tier="")], "field 'tier' must be a non-empty string"),
        (
            [entry(), entry(stripe_price_id="p2")],
            "catalog entry 2 (node_locked/standard/month):"
            " field 'interval' repeats the price of entry 1",
        ),
        (
            [entry(), entry(interval="year")],
            "catalog entry 2 (node_locked/standard/year):"
            " field 'stripe_price_id' is used by entry 1",
        ),
        (
            [
                entry(tier="pro", rank=2),
                entry(tier="pro", rank=3, interval="year", stripe_price_id="p"),
            ],
            "catalog entry 2 (node_locked/pro/year):"
            " field 'rank' differs from entry 1 of the same tier",
        ),
        (
            [entry(), entry(tier="pro", stripe_price_id="p2")],
            "catalog entry 2 (node_locked/pro/month): field 'rank' 1 is already tier 'standard''s",
        ),
        (
            [
                entry(tier="pro", rank=2, features=["sso"]),
                entry(tier="pro", rank=2, interval="year", stripe_price_id="p"),
            ],
            "field 'features' differ from entry 1 of the same tier",
        ),
    ],
)
def test_a_bad_entry_is_named_with_its_field(entries: object, message: str) -> None:
    with pytest.raises(BadCatalogEntry) as raised:
        parse_catalog(entries)
    assert message in str(raised.value)


def test_the_example_catalog_sells_three_tiers_of_each_license_type() -> None:
    catalog = Catalog(parse_catalog(json.loads((ROOT / "cli/data/catalog.json").read_text())))
    for license_type in ("node_locked", "floating"):
        tiers = catalog.tiers(license_type, "year")
        assert [p.tier for p in tiers] == ["standard", "professional", "enterprise"]
    assert catalog.price("node_locked", "year").unit_amount == 100000  # the seed's plan
    assert catalog.features("node_locked", "enterprise") == ("priority_support", "sso", "audit_log")


def test_only_a_higher_rank_is_an_upgrade() -> None:
    catalog = Catalog(
        parse_catalog(
            [
                entry(),
                entry(tier="pro", rank=2, stripe_price_id="p2", unit_amount=20000),
                entry(tier="ent", rank=3, stripe_price_id="p3", unit_amount=30000),
            ]
        )
    )
    catalog.check_tier_rises("node_locked", "standard", "ent")
    with pytest.raises(TierCannotDecrease):
        catalog.check_tier_rises("node_locked", "ent", "pro")
    with pytest.raises(TierCannotDecrease):
        catalog.check_tier_rises("node_locked", "pro", "pro")
