"""The catalog: per-seat prices by license type and billing interval."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from domain.errors import PriceNotInCatalog


@dataclass(frozen=True)
class CatalogPrice:
    license_type: str
    interval: str
    unit_amount: int  # minor units per seat per cycle
    currency: str
    stripe_price_id: str


class Catalog:
    def __init__(self, prices: Iterable[CatalogPrice]) -> None:
        self._by_key = {(p.license_type, p.interval): p for p in prices}
        self._by_stripe_id = {p.stripe_price_id: p for p in self._by_key.values()}

    def price(self, license_type: str, interval: str) -> CatalogPrice:
        found = self._by_key.get((license_type, interval))
        if found is None:
            raise PriceNotInCatalog(f"no {interval}ly price for license type {license_type!r}")
        return found

    def by_stripe_price(self, stripe_price_id: str | None) -> CatalogPrice | None:
        return self._by_stripe_id.get(stripe_price_id or "")

    def __iter__(self) -> Iterator[CatalogPrice]:
        return iter(sorted(self._by_key.values(), key=lambda p: (p.license_type, p.interval)))
