"""Stripe `promotion_code` and `coupon` objects → `domain.promotions.PromotionCode`.

Since API 2025-09-30 a promotion code names its coupon under `promotion.coupon` (an id unless
expanded); before, under `coupon`. Both are read. What seatflow cannot apply to an upgrade's
invoice is refused by name (`DiscountCodeUnsupported`): a coupon for some products only
(the upgrade's invoice line names no product), another kind of promotion, or a code whose
text has no canonical form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from domain.discounts import canonical_code
from domain.errors import DiscountCodeUnsupported, InvalidDiscountCode
from domain.promotions import Amounts, Coupon, PromotionCode

FetchCoupon = Callable[[str], dict[str, Any]]


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _amounts(base: tuple[Any, Any], options: Any, field: str) -> Amounts:
    """(currency, amount) pairs from an amount in its currency and `currency_options`."""
    amount, currency = base
    found = {str(currency).lower(): int(amount)} if amount is not None and currency else {}
    for option_currency, option in (options or {}).items():
        if option and option.get(field) is not None:
            found.setdefault(str(option_currency).lower(), int(option[field]))
    return tuple(sorted(found.items()))


def coupon(data: dict[str, Any]) -> Coupon:
    """A Stripe coupon; its `percent_off` (a JSON number such as 33.33) read exactly, as the
    decimal Stripe was given."""
    products = (data.get("applies_to") or {}).get("products")
    if products:
        raise DiscountCodeUnsupported(
            f"the coupon {data.get('id')} applies to some products only: seatflow cannot "
            "apply it to an upgrade"
        )
    percent = data.get("percent_off")
    return Coupon(
        id=str(data["id"]),
        percent_off=Fraction(str(percent)) if percent is not None else None,
        amounts_off=_amounts(
            (data.get("amount_off"), data.get("currency")),
            data.get("currency_options"),
            "amount_off",
        ),
        valid=bool(data.get("valid", True)),
        redeem_by=_time(data.get("redeem_by")),
        max_redemptions=_int(data.get("max_redemptions")),
        times_redeemed=int(data.get("times_redeemed") or 0),
    )


def _coupon_of(data: dict[str, Any], fetch_coupon: FetchCoupon) -> Coupon:
    promotion = data.get("promotion") or {}
    if promotion and promotion.get("type", "coupon") != "coupon":
        raise DiscountCodeUnsupported(
            f"promotion code {data.get('code')!r} is a {promotion.get('type')} promotion: "
            "seatflow applies coupons only"
        )
    found = promotion.get("coupon") if promotion else data.get("coupon")
    if not isinstance(found, dict):
        coupon_id = _id(found)
        if coupon_id is None:
            raise DiscountCodeUnsupported(f"promotion code {data.get('code')!r} has no coupon")
        found = fetch_coupon(coupon_id)
    return coupon(found)


def promotion_code(data: dict[str, Any], fetch_coupon: FetchCoupon) -> PromotionCode:
    """A Stripe promotion code, its coupon expanded (or fetched with `fetch_coupon`)."""
    try:
        text = canonical_code(str(data.get("code") or ""))
    except InvalidDiscountCode:
        raise DiscountCodeUnsupported(
            f"promotion code {data.get('code')!r} has characters seatflow's codes do not"
        ) from None
    restrictions = data.get("restrictions") or {}
    return PromotionCode(
        id=str(data["id"]),
        code=text,
        coupon=_coupon_of(data, fetch_coupon),
        active=bool(data.get("active", False)),
        expires_at=_time(data.get("expires_at")),
        max_redemptions=_int(data.get("max_redemptions")),
        times_redeemed=int(data.get("times_redeemed") or 0),
        customer_id=_id(data.get("customer")),
        first_time_only=bool(restrictions.get("first_time_transaction")),
        minimums=_amounts(
            (restrictions.get("minimum_amount"), restrictions.get("minimum_amount_currency")),
            restrictions.get("currency_options"),
            "minimum_amount",
        ),
    )


def meant_for(found: Iterable[dict[str, Any]], customer_id: str | None) -> dict[str, Any] | None:
    """Of the codes Stripe listed for one text, the one this customer would redeem: the one
    restricted to them, else one for everybody, else (to be refused by name) another's."""
    listed = list(found)
    for wanted in (customer_id, None):
        for item in listed:
            if _id(item.get("customer")) == wanted:
                return item
    return listed[0] if listed else None
