"""Catalog entries as an operator writes them (JSON objects), checked field by field.

Each broken rule is a `BadCatalogEntry` naming the entry (its position, from 1, and its
license type / tier / interval) and the field, so that a file can be fixed without guessing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from domain.catalog import DEFAULT_RANK, DEFAULT_TIER, CatalogPrice
from domain.errors import BadCatalogEntry, UnknownCurrency
from domain.model import Interval
from domain.money import exponent

REQUIRED = ("license_type", "interval", "unit_amount", "currency", "stripe_price_id")
KNOWN = frozenset(REQUIRED) | {"tier", "rank", "features"}


def _fail(where: str, field: str, problem: str) -> BadCatalogEntry:
    return BadCatalogEntry(f"{where}: field {field!r} {problem}")


def _text(entry: Mapping[str, Any], field: str, where: str, default: str | None = None) -> str:
    value = entry.get(field, default)
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, field, "must be a non-empty string")
    return value.strip()


def _whole(entry: Mapping[str, Any], field: str, where: str, least: int, default: Any) -> int:
    value = entry.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise _fail(where, field, f"must be a whole number of at least {least}")
    return value


def _features(entry: Mapping[str, Any], where: str) -> tuple[str, ...]:
    value = entry.get("features", [])
    if not isinstance(value, list) or not all(isinstance(f, str) and f for f in value):
        raise _fail(where, "features", "must be a list of non-empty strings")
    return tuple(value)


def _where(index: int, entry: Mapping[str, Any]) -> str:
    keys = ("license_type", "tier", "interval") if "tier" in entry else ("license_type", "interval")
    return f"catalog entry {index} ({'/'.join(str(entry.get(k, '?')) for k in keys)})"


def parse_entry(index: int, entry: object) -> CatalogPrice:
    """One entry (position `index`, from 1) as a price; a missing tier is `standard`, rank 1."""
    if not isinstance(entry, dict):
        raise BadCatalogEntry(f"catalog entry {index}: expected an object, got {entry!r}")
    where = _where(index, entry)
    unknown = sorted(set(entry) - KNOWN)
    if unknown:
        raise _fail(where, unknown[0], "is not a catalog field")
    for field in REQUIRED:
        if field not in entry:
            raise _fail(where, field, "is missing")
    interval = _text(entry, "interval", where)
    if interval not in {i.value for i in Interval}:
        raise _fail(where, "interval", f"must be {' or '.join(repr(i.value) for i in Interval)}")
    currency = _text(entry, "currency", where).lower()
    if len(currency) != 3 or not currency.isalpha():
        raise _fail(where, "currency", "must be a three-letter ISO code")
    try:
        exponent(currency)
    except UnknownCurrency:
        price = entry.get("stripe_price_id")
        raise _fail(
            where, "currency", f"{currency!r} of Stripe price {price}: its minor unit is not known"
        ) from None
    return CatalogPrice(
        license_type=_text(entry, "license_type", where),
        interval=interval,
        unit_amount=_whole(entry, "unit_amount", where, 0, None),
        currency=currency,
        stripe_price_id=_text(entry, "stripe_price_id", where),
        tier=_text(entry, "tier", where, DEFAULT_TIER),
        rank=_whole(entry, "rank", where, 1, DEFAULT_RANK),
        features=_features(entry, where),
    )


def parse_catalog(entries: object) -> list[CatalogPrice]:
    """A whole file: every entry valid, and together they describe one catalog."""
    if not isinstance(entries, list):
        raise BadCatalogEntry("a catalog is a list of entries")
    prices = [parse_entry(i, e) for i, e in enumerate(entries, start=1)]
    check_consistent(prices)
    return prices


def check_consistent(prices: Iterable[CatalogPrice]) -> None:
    """No price twice; a tier has one rank and one set of features; ranks are distinct."""
    seen: dict[tuple[str, str, str], int] = {}
    price_ids: dict[str, int] = {}
    tiers: dict[tuple[str, str], tuple[int, tuple[str, ...], int]] = {}
    ranks: dict[tuple[str, int], str] = {}
    for i, p in enumerate(prices, start=1):
        where = f"catalog entry {i} ({p.license_type}/{p.tier}/{p.interval})"
        key = (p.license_type, p.tier, p.interval)
        if key in seen:
            raise _fail(where, "interval", f"repeats the price of entry {seen[key]}")
        if p.stripe_price_id in price_ids:
            raise _fail(
                where, "stripe_price_id", f"is used by entry {price_ids[p.stripe_price_id]}"
            )
        seen[key], price_ids[p.stripe_price_id] = i, i
        rank, features, first = tiers.setdefault((p.license_type, p.tier), (p.rank, p.features, i))
        if rank != p.rank:
            raise _fail(where, "rank", f"differs from entry {first} of the same tier ({rank})")
        if features != p.features:
            raise _fail(where, "features", f"differ from entry {first} of the same tier")
        holder = ranks.setdefault((p.license_type, p.rank), p.tier)
        if holder != p.tier:
            raise _fail(where, "rank", f"{p.rank} is already tier {holder!r}'s")
    listed = list(prices)
    for higher, lower in not_above_lower_tiers(listed):
        where = f"catalog entry {listed.index(higher) + 1} ({_name(higher)})"
        raise _fail(
            where,
            "unit_amount",
            f"{higher.unit_amount} is not more than {lower.unit_amount}, the price of the "
            f"lower tier {lower.tier!r} (rank {lower.rank})",
        )


def not_above_lower_tiers(prices: list[CatalogPrice]) -> list[tuple[CatalogPrice, CatalogPrice]]:
    """A higher tier costs more than each lower one, per seat on the same interval (in the
    same currency): the (higher, lower) pairs where it does not."""
    return [
        (p, q)
        for p in prices
        for q in prices
        if (q.license_type, q.interval, q.currency) == (p.license_type, p.interval, p.currency)
        and q.rank < p.rank
        and p.unit_amount <= q.unit_amount
    ]


def _key(p: CatalogPrice) -> tuple[str, str, str]:
    return (p.license_type, p.tier, p.interval)


def _name(p: CatalogPrice) -> str:
    return "/".join(_key(p))


def merge_conflicts(stored: Iterable[CatalogPrice], imported: Iterable[CatalogPrice]) -> list[str]:
    """What storing `imported` over `stored` (a price replaces the stored one of its license
    type, tier and interval) would make inconsistent, each conflict naming both sides."""
    incoming = list(imported)
    replaced = {_key(p) for p in incoming}
    side = {id(p): "stored" for p in stored if _key(p) not in replaced}
    kept = [p for p in stored if id(p) in side]
    side |= {id(p): "imported" for p in incoming}
    found: list[str] = []
    tiers: dict[tuple[str, str], CatalogPrice] = {}
    ranks: dict[tuple[str, int], CatalogPrice] = {}
    price_ids: dict[str, CatalogPrice] = {}
    for p in [*kept, *incoming]:
        first = tiers.setdefault((p.license_type, p.tier), p)
        where = f"{p.license_type} tier {p.tier!r}"
        if first.rank != p.rank:
            found.append(
                f"{where} would have two ranks: "
                f"{first.rank} ({side[id(first)]}) and {p.rank} ({side[id(p)]})"
            )
        elif first.features != p.features:
            found.append(
                f"{where} would have two sets of features: {', '.join(first.features) or 'none'} "
                f"({side[id(first)]}) and {', '.join(p.features) or 'none'} ({side[id(p)]})"
            )
        holder = ranks.setdefault((p.license_type, p.rank), p)
        if holder.tier != p.tier:
            found.append(
                f"{p.license_type} rank {p.rank} would be two tiers: "
                f"{holder.tier!r} ({side[id(holder)]}) and {p.tier!r} ({side[id(p)]})"
            )
        same_id = price_ids.setdefault(p.stripe_price_id, p)
        if _key(same_id) != _key(p):
            found.append(
                f"Stripe price {p.stripe_price_id} would be two prices: "
                f"{_name(same_id)} ({side[id(same_id)]}) and {_name(p)} ({side[id(p)]})"
            )
    for higher, lower in not_above_lower_tiers([*incoming, *kept]):
        found.append(
            f"{_name(higher)} ({side[id(higher)]}) costs {higher.unit_amount}, not more than "
            f"{lower.unit_amount} of {_name(lower)} ({side[id(lower)]}), a lower tier"
        )
    return list(dict.fromkeys(found))
