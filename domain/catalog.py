"""The catalog: per-seat prices by license type, tier and billing interval.

A license type is sold in ordered tiers (`standard` < `professional` < `enterprise`, by
`rank`); each tier grants features. A catalog written before tiers existed prices only the
`standard` tier, rank 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from domain.errors import PriceNotInCatalog, TierCannotDecrease

DEFAULT_TIER = "standard"
DEFAULT_RANK = 1
# How a feature reads for people; a feature not listed reads as its words ("audit_log" →
# "Audit log"), so a new one in the catalog never shows as a raw name.
FEATURE_LABELS = {"sso": "Single sign-on (SSO)", "priority_support": "Priority support"}


def feature_label(name: str) -> str:
    words = name.replace("_", " ").replace("-", " ").strip()
    return FEATURE_LABELS.get(name) or (words[:1].upper() + words[1:])


@dataclass(frozen=True)
class CatalogPrice:
    license_type: str
    interval: str
    unit_amount: int  # minor units per seat per cycle
    currency: str
    stripe_price_id: str
    tier: str = DEFAULT_TIER
    rank: int = DEFAULT_RANK  # higher ranks are bigger plans of the same license type
    features: tuple[str, ...] = ()


class Catalog:
    def __init__(self, prices: Iterable[CatalogPrice]) -> None:
        self._by_key = {(p.license_type, p.tier, p.interval): p for p in prices}
        self._by_stripe_id = {p.stripe_price_id: p for p in self._by_key.values()}

    def price(self, license_type: str, interval: str, tier: str = DEFAULT_TIER) -> CatalogPrice:
        found = self._by_key.get((license_type, tier, interval))
        if found is None:
            raise PriceNotInCatalog(
                f"no {interval}ly price for license type {license_type!r}, tier {tier!r}"
            )
        return found

    def rank(self, license_type: str, tier: str) -> int:
        """The tier's rank; a tier the catalog does not price raises PriceNotInCatalog."""
        for p in self._by_key.values():
            if (p.license_type, p.tier) == (license_type, tier):
                return p.rank
        raise PriceNotInCatalog(f"license type {license_type!r} has no tier {tier!r}")

    def check_tier_rises(self, license_type: str, old: str, new: str) -> None:
        """An upgrade may only move to a tier ranked above today's."""
        old_rank, new_rank = self.rank(license_type, old), self.rank(license_type, new)
        if new_rank <= old_rank:
            raise TierCannotDecrease(
                f"tier {new!r} (rank {new_rank}) is not above today's {old!r} (rank {old_rank})"
            )

    def features(self, license_type: str, tier: str) -> tuple[str, ...]:
        """What a tier grants (none for a tier the catalog does not price)."""
        found = (p.features for p in self if (p.license_type, p.tier) == (license_type, tier))
        return next(found, ())

    def tiers_from(self, license_type: str, tier: str) -> list[str]:
        """`tier` and the tiers ranked above it: what an upgrade may choose."""
        ranks = {p.tier: p.rank for p in self if p.license_type == license_type}
        floor = ranks.get(tier, DEFAULT_RANK)
        names = [t for t, r in ranks.items() if r >= floor and t != tier]
        return [tier, *sorted(names, key=lambda t: (ranks[t], t))]

    def tiers(self, license_type: str, interval: str) -> list[CatalogPrice]:
        """The tiers sold for one license type on one interval, lowest rank first."""
        found = [p for p in self if (p.license_type, p.interval) == (license_type, interval)]
        return sorted(found, key=lambda p: (p.rank, p.tier))

    def by_stripe_price(self, stripe_price_id: str | None) -> CatalogPrice | None:
        return self._by_stripe_id.get(stripe_price_id or "")

    def __iter__(self) -> Iterator[CatalogPrice]:
        return iter(
            sorted(self._by_key.values(), key=lambda p: (p.license_type, p.rank, p.interval))
        )
