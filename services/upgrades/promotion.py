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

from adapters.unit_of_work import SqlUnitOfWork
from domain.errors import NotOwnerOrAdmin
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
    code: str | None, organization_id: str, member_id: str, uow: SqlUnitOfWork, deps: Deps
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
        if uow.catalog.discount(code) is not None:
            return None
        org = uow.organizations.get(organization_id)
        customer = org.stripe_customer_id if org else None
    found = deps.gateway.find_promotion_code(code=code, customer_id=customer)
    return _read(found, customer, deps)


def for_charge(upgrade_id: str, uow: SqlUnitOfWork, deps: Deps) -> StripeCode | None:
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
