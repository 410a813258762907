"""Stripe prices → catalog entries: the catalog is read from Stripe's own price metadata.

A price belongs to the catalog when it is active, recurring and its metadata names a
`license_type`; `tier` (default `standard`), `rank` (default 1) and `features` (a
comma-separated list) come from the same metadata. The entries are checked like a file's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.errors import BadCatalogEntry
from domain.model import Interval

SOLD_INTERVALS = frozenset(i.value for i in Interval)


def _check_billed_as_sold(price: dict[str, Any], license_type: str) -> None:
    """Only a price billed every month or every year: any other cycle is refused by name,
    never read as monthly."""
    recurring = price.get("recurring") or {}
    interval, count = recurring.get("interval"), recurring.get("interval_count") or 1
    if interval in SOLD_INTERVALS and count == 1:
        return
    every = f"every {count} {interval}s" if count != 1 else f"every {interval}"
    raise BadCatalogEntry(
        f"Stripe price {price.get('id')} ({license_type}): it is billed {every}; seatflow "
        "sells monthly and yearly prices only (interval month or year, interval_count 1)"
    )


def catalog_entry(price: dict[str, Any]) -> dict[str, Any] | None:
    """The catalog entry a Stripe price describes, None if it is not a catalog price; a
    catalog price seatflow cannot sell raises BadCatalogEntry naming it and why."""
    metadata = price.get("metadata") or {}
    interval = (price.get("recurring") or {}).get("interval")
    if not metadata.get("license_type") or not interval or price.get("active") is False:
        return None
    _check_billed_as_sold(price, str(metadata["license_type"]))
    entry: dict[str, Any] = {
        "license_type": metadata["license_type"],
        "interval": interval,
        "unit_amount": price.get("unit_amount"),
        "currency": price.get("currency"),
        "stripe_price_id": price.get("id"),
    }
    if metadata.get("tier"):
        entry["tier"] = metadata["tier"]
    if metadata.get("rank"):
        rank = str(metadata["rank"])
        entry["rank"] = int(rank) if rank.isdigit() else rank
    if metadata.get("features"):
        entry["features"] = [f.strip() for f in str(metadata["features"]).split(",") if f.strip()]
    return entry


def catalog_entries(pages: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    found = (catalog_entry(price) for page in pages for price in page)
    return sorted(
        (e for e in found if e is not None),
        key=lambda e: (e["license_type"], e.get("rank", 1), e["interval"]),
    )
