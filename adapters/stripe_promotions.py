"""Stripe's promotion codes and whether a customer ever paid: part of the gateway
(`StripeGateway` inherits it); it calls Stripe through the gateway's client and hands the
services typed values (`adapters/promotion_parsing.py`), never a Stripe dict."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from adapters import promotion_parsing
from adapters.stripe_errors import is_missing, refuses_discount
from adapters.stripe_errors import translate_errors as _translate_errors
from domain.errors import PromotionCodeRefused
from domain.ports import ChargeRejected
from domain.promotions import PromotionCode


class _Reads(Protocol):
    def acquire(self) -> None: ...


def promotion_refusal(rejected: ChargeRejected) -> PromotionCodeRefused | None:
    """The named error for a request Stripe refused because of the promotion code it
    carries (Stripe's own words kept), or None for any other refusal."""
    if not refuses_discount(rejected):
        return None
    return PromotionCodeRefused(
        f"Stripe refused the promotion code: {rejected.message} Nothing was charged; "
        "ask for a new estimate."
    )


@contextmanager
def promotion_refusals() -> Iterator[None]:
    """`promotion_refusal` for the requests made inside."""
    try:
        yield
    except ChargeRejected as rejected:
        refusal = promotion_refusal(rejected)
        if refusal is not None:
            raise refusal from rejected
        raise


class StripePromotions:
    client: Any
    _reads: _Reads

    def find_promotion_code(self, *, code: str, customer_id: str | None) -> PromotionCode | None:
        """The promotion code Stripe holds for `code` (compared case-insensitively by
        Stripe; `code` is given in its canonical form) that this customer would redeem: an
        active one if there is, else an inactive one (refused by name), else None."""
        for active in (True, False):
            listed = self._list_codes({"code": code, "active": active, "limit": 10})
            found = promotion_parsing.meant_for(listed, customer_id)
            if found is not None:
                return promotion_parsing.promotion_code(found, self._coupon)
        return None

    def promotion_code(self, promotion_code_id: str) -> PromotionCode | None:
        """The promotion code as Stripe has it now (None if Stripe has none of that id)."""
        self._reads.acquire()
        try:
            with _translate_errors("retrieve_promotion_code"):
                found = self.client.v1.promotion_codes.retrieve(
                    promotion_code_id, {"expand": ["promotion.coupon"]}
                )
        except ChargeRejected as rejected:
            if is_missing(rejected):
                return None
            raise
        return promotion_parsing.promotion_code(found.to_dict(), self._coupon)

    def customer_has_paid(self, customer_id: str) -> bool:
        """Whether Stripe has a paid invoice of the customer for more than nothing (what a
        promotion code for first-time customers asks)."""
        self._reads.acquire()
        with _translate_errors("list_invoices"):
            page = self.client.v1.invoices.list(
                {"customer": customer_id, "status": "paid", "limit": 100}
            )
        return any(int(invoice.to_dict().get("total") or 0) > 0 for invoice in page.data)

    def _list_codes(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self._reads.acquire()
        with _translate_errors("list_promotion_codes"):
            page = self.client.v1.promotion_codes.list(
                {**params, "expand": ["data.promotion.coupon"]}
            )
        return [item.to_dict() for item in page.data]

    def _coupon(self, coupon_id: str) -> dict[str, Any]:
        self._reads.acquire()
        with _translate_errors("retrieve_coupon"):
            found: dict[str, Any] = self.client.v1.coupons.retrieve(coupon_id).to_dict()
        return found
