"""The discount field's Stripe half: Stripe's promotion codes, read before any lock.

The upgrade's discount field takes a code of seatflow's own (`seatflow discount create`) or
one of Stripe's promotion codes; both are named by text in `canonical_code`'s one form (Stripe
compares codes case-insensitively, and is asked with that form). When both exist for one
text, **seatflow's own code wins**: Stripe is not asked. A Stripe code is read from Stripe
before the estimate's transaction and again before the charge's (never under a lock), with
whether the customer ever paid when the code is for first-time customers; the domain checks
its restrictions inside the transaction. Imports no sibling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from domain import pricing
from domain.discounts import Discount, Reduction, canonical_code
from domain.errors import NotOwnerOrAdmin, OrganizationNotFound
from domain.ports import UnitOfWork
from domain.promotions import PromotionCode
from domain.upgrades import UpgradeState
from services.deps import Deps


@dataclass(frozen=True)
class StripeCode:
    """A Stripe promotion code as read from Stripe, with what its restrictions need."""

    promotion: PromotionCode
    paid_before: bool

    def usable(self, now: datetime, customer_id: str | None) -> PromotionCode:
        """The code, if this customer may redeem it now; a named error otherwise."""
        self.promotion.check_usable(now, customer_id, self.paid_before)
        return self.promotion


def _read(
    promotion: PromotionCode | None, customer_id: str | None, deps: Deps
) -> StripeCode | None:
    if promotion is None:
        return None
    asks = promotion.first_time_only and customer_id is not None
    paid = deps.gateway.customer_has_paid(customer_id) if asks and customer_id else False
    return StripeCode(promotion, paid)


def look_up(
    code: str | None, organization_id: str, member_id: str, uow: UnitOfWork, deps: Deps
) -> StripeCode | None:
    """Stripe's promotion code for `code` (canonical) and the organization's customer; None
    without a code, when seatflow has its own code of that text (it wins), or when Stripe
    has none (the estimate then says no such code). Stripe is asked only for an owner or
    admin of the organization."""
    if not code:
        return None
    with uow:
        member = uow.members.get(member_id)
        if member is None or member.organization_id != organization_id:
            raise NotOwnerOrAdmin("not a member of this organization")
        member.require_upgrader()
    return _stripe_code(code, organization_id, uow, deps)


def _stripe_code(code: str, organization_id: str, uow: UnitOfWork, deps: Deps) -> StripeCode | None:
    with uow:
        if uow.catalog.discount(code) is not None:
            return None
        org = uow.organizations.get(organization_id)
        customer = org.stripe_customer_id if org else None
    found = deps.gateway.find_promotion_code(code=code, customer_id=customer)
    return _read(found, customer, deps)


def check(
    raw: str,
    organization_id: str,
    uow: UnitOfWork,
    deps: Deps,
    amount: int | None = None,
    currency: str = "usd",
) -> dict[str, Any]:
    """The code as an upgrade of the organization would take it (`seatflow discount check`):
    whose it is, its terms and, given an amount, what it takes off; the named error an
    estimate would give otherwise."""
    code = canonical_code(raw)
    stripe_code = _stripe_code(code, organization_id, uow, deps)
    now = deps.clock.now()
    with uow:
        org = uow.organizations.get(organization_id)
        if org is None:
            raise OrganizationNotFound(f"no organization {organization_id!r}")
        if stripe_code is None:
            found = uow.catalog.discount(code)
            reserved = uow.upgrades.reserved(code) if found else 0
            local = pricing.usable_discount(found, code, now, reserved)
            assert local is not None
            shown = _local(local)
            reduction: Reduction = local
        else:
            reduction = stripe_code.usable(now, org.stripe_customer_id)
            shown = _stripe(reduction)
    if amount is not None:
        off = reduction.take_off(amount, currency)
        due = {"amount": amount, "currency": currency.lower(), "discount": off}
        shown["takes_off"] = due | {"due": amount - off}
    return shown


def _percent(value: Fraction | int | None) -> str | None:
    if value is None:
        return None
    share = Fraction(value)
    return format(Decimal(share.numerator) / Decimal(share.denominator), "f")


def _local(found: Discount) -> dict[str, Any]:
    amount = {found.currency or "": found.amount_off} if found.amount_off is not None else None
    return {
        "code": found.code,
        "source": "seatflow",
        "promotion_code": None,
        "coupon": None,
        "percent_off": _percent(found.percent_off),
        "amount_off": amount,
        "max_redemptions": found.max_redemptions,
        "times_redeemed": found.times_redeemed,
    }


def _stripe(found: PromotionCode) -> dict[str, Any]:
    return {
        "code": found.code,
        "source": "stripe",
        "promotion_code": found.id,
        "coupon": found.coupon.id,
        "percent_off": _percent(found.coupon.percent_off),
        "amount_off": dict(found.coupon.amounts_off) or None,
        "max_redemptions": found.max_redemptions,
        "times_redeemed": found.times_redeemed,
    }


def for_charge(upgrade_id: str, uow: UnitOfWork, deps: Deps) -> StripeCode | None:
    """The Stripe promotion code of an upgrade about to be priced, as Stripe has it now."""
    with uow:
        upgrade = uow.upgrades.get(upgrade_id)
        if upgrade is None or upgrade.state != UpgradeState.REQUESTED:
            return None
        promotion_code_id = upgrade.promotion_code_id
        org = uow.organizations.get(upgrade.organization_id) if promotion_code_id else None
        customer = org.stripe_customer_id if org else None
    if not promotion_code_id:
        return None
    return _read(deps.gateway.promotion_code(promotion_code_id), customer, deps)
