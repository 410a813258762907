"""The catalog: per-seat prices by license type and billing interval."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from domain.errors import BadCatalogEntry, PriceNotInCatalog


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


def price_from_entry(number: int, entry: Any) -> CatalogPrice:
    """One entry of a catalog file (numbered from 1); a bad one is named with its field."""
    from domain.model import Interval

    label = f"catalog entry {number}"
    if not isinstance(entry, dict):
        raise BadCatalogEntry(f"{label}: expected an object, got {entry!r}")
    label += f" ({entry.get('license_type', '?')}/{entry.get('interval', '?')})"
    for name in ("license_type", "interval", "unit_amount", "currency", "stripe_price_id"):
        if name not in entry:
            raise BadCatalogEntry(f"{label}: field {name!r} is missing")
    if entry["interval"] not in {i.value for i in Interval}:
        allowed = " or ".join(repr(i.value) for i in Interval)
        raise BadCatalogEntry(f"{label}: field 'interval' must be {allowed}")
    amount = entry["unit_amount"]
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise BadCatalogEntry(
            f"{label}: field 'unit_amount' must be a whole number of minor units >= 0, "
            f"got {amount!r}"
        )
    return CatalogPrice(
        license_type=str(entry["license_type"]),
        interval=str(entry["interval"]),
        unit_amount=amount,
        currency=str(entry["currency"]).lower(),
        stripe_price_id=str(entry["stripe_price_id"]),
    )
