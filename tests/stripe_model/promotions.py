"""Coupons, promotion codes and the discounts they make on invoices, as Stripe (API
2026-07-29) does it.

A promotion code names its coupon under `promotion.coupon` (an id unless expanded with
`expand[]=promotion.coupon`, or `data.promotion.coupon` in a list); `GET
/v1/promotion_codes?code=` matches the code case-insensitively. An invoice created with
`discounts[0][promotion_code]=promo_…` carries a `discount` object (`invoice.discounts`);
its lines carry `discount_amounts` and the invoice `total_discount_amounts`:

- a percent-off coupon takes percent_off % of each discountable line, rounded half up to the
  minor unit (computed here with `Decimal`, ROUND_HALF_UP);
- an amount-off coupon takes its amount in the invoice's currency (`currency` or
  `currency_options`), line after line, never more than a line: the total is never negative.

The code is checked when it is put on the invoice (active, not expired, not redeemed out, the
customer it is restricted to, a first-time customer, the coupon's currency), again when the
invoice is finalized (the same, and the minimum amount against the subtotal) and when it is
paid (still redeemable). A refusal is a 400 `invalid_request_error` with `param=discounts`.
A redemption is counted, on the promotion code and its coupon, when the invoice is paid.
"""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from tests.stripe_model.base import Json, Store, diff, invalid, malformed, new_id


def _decimal(value: Any, param: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise invalid(f"Invalid decimal: {value}", param=param) from None


def _int(value: Any, param: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid integer: {value}", param=param) from None


def _true(value: Any) -> bool:
    return value in (True, "true")


def refused(message: str) -> Any:
    return invalid(message, param="discounts")


class Promotions(Store):
    # -- coupons ---------------------------------------------------------------------------
    def coupons_create(self, params: Json) -> Json:
        percent, amount = params.get("percent_off"), _int(params.get("amount_off"), "amount_off")
        if (percent is None) == (amount is None):
            raise malformed("Exactly one of percent_off or amount_off is required.", "percent_off")
        if percent is not None and not 0 < _decimal(percent, "percent_off") <= 100:
            raise invalid("percent_off must be above 0 and at most 100.", param="percent_off")
        if amount is not None and not params.get("currency"):
            raise malformed("Missing required param: currency.", "currency")
        coupon_id = str(params.get("id") or new_id("co")[3:])
        if coupon_id in self.objects:
            raise invalid(f"Coupon already exists: {coupon_id}", param="id")
        options = params.get("currency_options") or {}
        coupon = self.put(
            {
                "id": coupon_id,
                "object": "coupon",
                "amount_off": amount,
                "applies_to": {"products": list(params["applies_to"]["products"])}
                if params.get("applies_to")
                else None,
                "created": self.now(),
                "currency": str(params["currency"]).lower() if params.get("currency") else None,
                "currency_options": {
                    cur.lower(): {"amount_off": int(opt["amount_off"])}
                    for cur, opt in options.items()
                },
                "duration": params.get("duration", "once"),
                "duration_in_months": _int(params.get("duration_in_months"), "duration"),
                "livemode": False,
                "max_redemptions": _int(params.get("max_redemptions"), "max_redemptions"),
                "metadata": dict(params.get("metadata") or {}),
                "name": params.get("name"),
                "percent_off": float(_decimal(percent, "percent_off")) if percent else None,
                "redeem_by": _int(params.get("redeem_by"), "redeem_by"),
                "times_redeemed": 0,
                "valid": True,
            }
        )
        self.emit("coupon.created", coupon)
        return coupon

    def create_coupon(self, **params: Any) -> Json:
        """A coupon (`percent_off=33.33` or `amount_off=500, currency="usd"`, …)."""
        with self.lock:
            return self.coupons_create({k: v for k, v in params.items() if v is not None})

    # -- promotion codes -------------------------------------------------------------------
    def promotion_codes_create(self, params: Json) -> Json:
        promotion = params.get("promotion") or {}
        if promotion.get("type") != "coupon" or not promotion.get("coupon"):
            raise malformed("Missing required param: promotion[coupon].", "promotion")
        coupon = self.get("coupon", promotion["coupon"], "promotion[coupon]")
        code = str(params.get("code") or new_id("")[4:16].upper())
        if not code.isalnum():
            raise invalid("A code has letters and digits only.", param="code")
        customer = params.get("customer")
        if customer:
            self.get("customer", customer, "customer")
        restrictions = params.get("restrictions") or {}
        promo = {
            "id": new_id("promo"),
            "object": "promotion_code",
            "active": params.get("active", "true") in (True, "true"),
            "code": code,
            "created": self.now(),
            "customer": customer or None,
            "customer_account": None,
            "expires_at": _int(params.get("expires_at"), "expires_at"),
            "livemode": False,
            "max_redemptions": _int(params.get("max_redemptions"), "max_redemptions"),
            "metadata": dict(params.get("metadata") or {}),
            "promotion": {"coupon": coupon["id"], "type": "coupon"},
            "restrictions": {
                "currency_options": {
                    cur.lower(): {"minimum_amount": int(opt["minimum_amount"])}
                    for cur, opt in (restrictions.get("currency_options") or {}).items()
                },
                "first_time_transaction": _true(restrictions.get("first_time_transaction")),
                "minimum_amount": _int(restrictions.get("minimum_amount"), "minimum_amount"),
                "minimum_amount_currency": (restrictions.get("minimum_amount_currency") or None),
            },
            "times_redeemed": 0,
        }
        if promo["active"]:
            self._check_unique(promo)
        self.emit("promotion_code.created", self.put(promo))
        return promo

    def _check_unique(self, promo: Json) -> None:
        """One active code of a text (whatever its case) for each customer."""
        for other in self.all("promotion_code"):
            same = other["code"].upper() == promo["code"].upper()
            overlap = None in (other["customer"], promo["customer"]) or (
                other["customer"] == promo["customer"]
            )
            if other["active"] and other["id"] != promo["id"] and same and overlap:
                raise invalid(
                    "An active promotion code with this code already exists.", param="code"
                )

    def create_promotion_code(
        self,
        coupon: str,
        code: str,
        *,
        customer: str | None = None,
        expires_at: int | None = None,
        max_redemptions: int | None = None,
        first_time_transaction: bool = False,
        minimum_amount: int | None = None,
        minimum_amount_currency: str | None = None,
        active: bool = True,
    ) -> Json:
        params: Json = {
            "promotion": {"type": "coupon", "coupon": coupon},
            "code": code,
            "active": "true" if active else "false",
            "restrictions": {
                "first_time_transaction": "true" if first_time_transaction else "false",
                "minimum_amount": minimum_amount,
                "minimum_amount_currency": minimum_amount_currency,
            },
        }
        for name, value in (
            ("customer", customer),
            ("expires_at", expires_at),
            ("max_redemptions", max_redemptions),
        ):
            if value is not None:
                params[name] = value
        with self.lock:
            return self.promotion_codes_create(params)

    def promotion_codes_update(self, promo_id: str, params: Json) -> Json:
        promo = self.get("promotion_code", promo_id)
        before = copy.deepcopy(promo)
        if "active" in params:
            promo["active"] = _true(params["active"])
            if promo["active"]:
                self._check_unique(promo)
        for key, value in (params.get("metadata") or {}).items():
            promo["metadata"][key] = value
        if promo != before:
            self.emit("promotion_code.updated", promo, diff(before, promo))
        return promo

    def dashboard_promotion_code(self, promo_id: str, *, active: bool) -> Json:
        """Someone (de)activates the code in Stripe's dashboard."""
        with self.lock:
            return self.promotion_codes_update(promo_id, {"active": "true" if active else "false"})

    def dashboard_customer_discount(self, customer_id: str, coupon_id: str) -> Json:
        """Someone gives the customer a standing discount in Stripe's dashboard: every new
        invoice of the customer inherits it unless it is created with `discounts`."""
        with self.lock:
            customer = self.get("customer", customer_id)
            coupon = self.get("coupon", coupon_id)
            customer["discount"] = {
                "id": new_id("di"),
                "object": "discount",
                "customer": customer_id,
                "promotion_code": None,
                "source": {"coupon": coupon["id"], "type": "coupon"},
                "start": self.now(),
                "end": None,
            }
            self.emit("customer.discount.created", customer["discount"])
            return customer

    def promotion_codes_list(self, query: Json) -> Json:
        with self.lock:
            code = str(query.get("code") or "").upper()
            found = [
                promo
                for promo in self.all("promotion_code")
                if (not code or promo["code"].upper() == code)
                and query.get("active") in (None, "true" if promo["active"] else "false")
                and query.get("customer") in (None, promo["customer"])
                and query.get("coupon") in (None, promo["promotion"]["coupon"])
            ]
            page = self.page(found, query, "/v1/promotion_codes")
            if "data.promotion.coupon" in (query.get("expand") or []):
                page["data"] = [self._with_coupon(promo) for promo in page["data"]]
            return page

    def promotion_code(self, promo_id: str, query: Json) -> Json:
        promo = self.get("promotion_code", promo_id)
        if "promotion.coupon" in (query.get("expand") or []):
            return self._with_coupon(promo)
        return promo

    def _with_coupon(self, promo: Json) -> Json:
        expanded = copy.deepcopy(promo)
        expanded["promotion"]["coupon"] = copy.deepcopy(
            self.get("coupon", promo["promotion"]["coupon"])
        )
        return expanded

    # -- discounts on invoices -------------------------------------------------------------
    def _discounts_for(self, customer: str, currency: str, params: Json) -> list[Json]:
        """The promotion codes and coupons an invoice is created with, checked. Without
        `discounts` the invoice inherits the customer's standing discount; `discounts=""`
        (an empty list) creates it with none."""
        if "discounts" not in params:
            standing = self.get("customer", customer).get("discount")
            if standing is None:
                return []
            coupon = self.get("coupon", standing["source"]["coupon"])
            return [{"promotion_code": standing["promotion_code"], "coupon": coupon}]
        chosen = []
        for index, entry in enumerate(params.get("discounts") or []):
            if entry.get("promotion_code"):
                promo = self.get(
                    "promotion_code", entry["promotion_code"], f"discounts[{index}][promotion_code]"
                )
                coupon = self.get("coupon", promo["promotion"]["coupon"])
                self._check_customer(promo, customer)
            elif entry.get("coupon"):
                promo, coupon = None, self.get("coupon", entry["coupon"], f"discounts[{index}]")
            else:
                raise malformed("A discount needs a coupon or a promotion_code.", "discounts")
            self._check_redeemable(promo, coupon)
            if coupon["amount_off"] is not None and _amount_off(coupon, currency) is None:
                raise refused(f"The coupon {coupon['id']} has no amount off in {currency.upper()}.")
            chosen.append({"promotion_code": promo["id"] if promo else None, "coupon": coupon})
        return chosen

    def _attach_discounts(self, invoice: Json, chosen: list[Json]) -> None:
        for found in chosen:
            discount = self.put(
                {
                    "id": new_id("di"),
                    "object": "discount",
                    "checkout_session": None,
                    "customer": invoice["customer"],
                    "customer_account": None,
                    "end": None,
                    "invoice": invoice["id"],
                    "invoice_item": None,
                    "promotion_code": found["promotion_code"],
                    "source": {"coupon": found["coupon"]["id"], "type": "coupon"},
                    "start": self.now(),
                    "subscription": None,
                    "subscription_item": None,
                }
            )
            invoice["discounts"].append(discount["id"])

    def _check_customer(self, promo: Json, customer: str) -> None:
        if promo["customer"] not in (None, customer):
            raise refused(f"This promotion code ({promo['code']}) is for another customer.")
        if promo["restrictions"]["first_time_transaction"] and self._has_paid(customer):
            raise refused(
                f"This promotion code ({promo['code']}) is for customers who never paid before."
            )

    def _has_paid(self, customer: str) -> bool:
        """A successful payment or a paid invoice of something."""
        return any(e.customer == customer and e.kind == "capture" for e in self.ledger) or any(
            i["customer"] == customer and i["status"] == "paid" and i["total"] > 0
            for i in self.all("invoice")
        )

    def _check_redeemable(self, promo: Json | None, coupon: Json) -> None:
        now = self.now()
        if not coupon["valid"] or (coupon["redeem_by"] is not None and now >= coupon["redeem_by"]):
            raise refused(f"The coupon {coupon['id']} is no longer valid.")
        if _used_up(coupon):
            raise refused(f"The coupon {coupon['id']} was redeemed the maximum number of times.")
        if promo is None:
            return
        if not promo["active"]:
            raise refused(f"This promotion code ({promo['code']}) is not active.")
        if promo["expires_at"] is not None and now >= promo["expires_at"]:
            raise refused(f"This promotion code ({promo['code']}) has expired.")
        if _used_up(promo):
            raise refused(
                f"This promotion code ({promo['code']}) was redeemed the maximum number of times."
            )

    def _check_discounts(self, invoice: Json, *, finalizing: bool) -> None:
        """Each discount's code still redeemable (and, when finalizing, its minimum met)."""
        for discount_id in invoice.get("discounts") or []:
            discount = self.get("discount", discount_id)
            promo = (
                self.get("promotion_code", discount["promotion_code"])
                if discount["promotion_code"]
                else None
            )
            self._check_redeemable(promo, self.get("coupon", discount["source"]["coupon"]))
            if promo is not None and finalizing:
                self._check_minimum(promo, invoice)

    def _check_minimum(self, promo: Json, invoice: Json) -> None:
        restrictions, currency = promo["restrictions"], invoice["currency"]
        minimum = (restrictions["currency_options"].get(currency) or {}).get("minimum_amount")
        if minimum is None and restrictions["minimum_amount"] is not None:
            if restrictions["minimum_amount_currency"] != currency:
                raise refused(f"This promotion code ({promo['code']}) is not for {currency}.")
            minimum = restrictions["minimum_amount"]
        if minimum is not None and invoice["subtotal"] < minimum:
            raise refused(
                f"This promotion code ({promo['code']}) needs a minimum amount of {minimum}."
            )

    def _discount_lines(self, invoice: Json) -> int:
        """Set each line's and the invoice's discount amounts; the total taken off."""
        for line in invoice["lines"]["data"]:
            line["discount_amounts"] = []
        totals = []
        for discount_id in invoice.get("discounts") or []:
            coupon = self.get("coupon", self.get("discount", discount_id)["source"]["coupon"])
            left = _amount_off(coupon, invoice["currency"])
            taken = 0
            for line in invoice["lines"]["data"]:
                if not line.get("discountable", True):
                    continue
                remaining = line["amount"] - sum(d["amount"] for d in line["discount_amounts"])
                if coupon["percent_off"] is not None:
                    share = Decimal(line["amount"]) * Decimal(str(coupon["percent_off"])) / 100
                    off = int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))
                else:
                    off = min(left or 0, remaining)
                    left = (left or 0) - off
                off = max(0, min(off, remaining))
                line["discount_amounts"].append({"amount": off, "discount": discount_id})
                taken += off
            totals.append({"amount": taken, "discount": discount_id})
        invoice["total_discount_amounts"] = totals
        return sum(t["amount"] for t in totals)

    def _redeem(self, invoice: Json) -> None:
        """The invoice was paid: each discount's code and coupon count one redemption."""
        for discount_id in invoice.get("discounts") or []:
            discount = self.get("discount", discount_id)
            coupon = self.get("coupon", discount["source"]["coupon"])
            coupon["times_redeemed"] += 1
            if _used_up(coupon):
                coupon["valid"] = False
            if discount["promotion_code"]:
                self.get("promotion_code", discount["promotion_code"])["times_redeemed"] += 1


def _used_up(obj: Json) -> bool:
    return obj["max_redemptions"] is not None and obj["times_redeemed"] >= obj["max_redemptions"]


def _amount_off(coupon: Json, currency: str) -> int | None:
    if coupon["amount_off"] is None:
        return None
    if coupon["currency"] == currency.lower():
        return int(coupon["amount_off"])
    option = coupon["currency_options"].get(currency.lower())
    return int(option["amount_off"]) if option else None
