"""An import is checked against the catalog already stored, and a higher tier costs more."""

from __future__ import annotations

import pytest

from domain.catalog import CatalogPrice
from domain.catalog_entries import merge_conflicts, parse_catalog
from domain.errors import BadCatalogEntry


def price(tier: str, rank: int, interval: str, amount: int, **kw: object) -> CatalogPrice:
    fields: dict[str, object] = {
        "license_type": "node_locked",
        "interval": interval,
        "unit_amount": amount,
        "currency": "usd",
        "stripe_price_id": f"price_{tier}_{interval}",
        "tier": tier,
        "rank": rank,
    }
    return CatalogPrice(**(fields | kw))  # type: ignore[arg-type]


def entry(tier: str, rank: int, interval: str, amount: int) -> dict[str, object]:
    return {
        "license_type": "node_locked",
        "tier": tier,
        "rank": rank,
        "interval": interval,
        "unit_amount": amount,
        "currency": "usd",
        "stripe_price_id": f"price_{tier}_{interval}",
    }


def test_a_higher_tier_costing_less_than_a_lower_one_is_refused() -> None:
    entries = [entry("standard", 1, "month", 10000), entry("enterprise", 3, "month", 1)]
    with pytest.raises(BadCatalogEntry) as raised:
        parse_catalog(entries)
    assert str(raised.value) == (
        "catalog entry 2 (node_locked/enterprise/month): field 'unit_amount' 1 is not more "
        "than 10000, the price of the lower tier 'standard' (rank 1)"
    )


def test_tiers_are_compared_per_interval() -> None:
    entries = [
        entry("standard", 1, "year", 100000),
        entry("professional", 2, "month", 20000),  # less than standard's year: another cycle
        entry("professional", 2, "year", 200000),
    ]
    assert len(parse_catalog(entries)) == 3


def test_an_import_whose_tiers_collide_with_the_stored_ones_lists_every_conflict() -> None:
    stored = [
        price("standard", 1, "month", 10000),
        price("pro", 2, "month", 20000),
        price("pro", 2, "year", 200000),
    ]
    imported = [
        price("standard", 1, "month", 10000),  # the same price again: fine
        price("professional", 2, "month", 25000),
        price("professional", 2, "year", 250000),
        price("enterprise", 3, "month", 1, stripe_price_id="price_pro_month"),
    ]
    assert merge_conflicts(stored, imported) == [
        "node_locked rank 2 would be two tiers: 'pro' (stored) and 'professional' (imported)",
        "Stripe price price_pro_month would be two prices: node_locked/pro/month (stored) and "
        "node_locked/enterprise/month (imported)",
        "node_locked/enterprise/month (imported) costs 1, not more than 10000 of "
        "node_locked/standard/month (imported), a lower tier",
        "node_locked/enterprise/month (imported) costs 1, not more than 25000 of "
        "node_locked/professional/month (imported), a lower tier",
        "node_locked/enterprise/month (imported) costs 1, not more than 20000 of "
        "node_locked/pro/month (stored), a lower tier",
    ]


def test_an_import_that_only_updates_or_adds_prices_has_no_conflict() -> None:
    stored = [price("standard", 1, "month", 10000), price("pro", 2, "month", 20000)]
    imported = [price("pro", 2, "month", 21000), price("pro", 2, "year", 210000)]
    assert merge_conflicts(stored, imported) == []


def test_a_tier_imported_with_another_rank_or_features_than_stored_conflicts() -> None:
    stored = [price("pro", 2, "month", 20000, features=("sso",))]
    imported = [price("pro", 3, "year", 200000), price("standard", 1, "year", 100000)]
    assert merge_conflicts(stored, imported) == [
        "node_locked tier 'pro' would have two ranks: 2 (stored) and 3 (imported)",
    ]
    imported = [price("pro", 2, "year", 200000, features=("sso", "audit_log"))]
    assert merge_conflicts(stored, imported) == [
        "node_locked tier 'pro' would have two sets of features: sso (stored) and "
        "sso, audit_log (imported)",
    ]
