"""The surcharge of an upgrade, priced from the catalog (the README's rule under "Upgrades":
new price × unused part of the new cycle − old price × unused part of the current one).

`domain.proration` holds the formula for explicit plans; this module says which plans an
upgrade compares (today's price of the subscription's cycle, the catalog's price of the new
one) and which discount applies.
"""

from __future__ import annotations

from datetime import datetime

from domain.catalog import Catalog
from domain.discounts import Discount, Reduction
from domain.errors import DiscountCodeInvalid
from domain.model import Subscription
from domain.proration import Plan, Surcharge, compute_surcharge


def usable_discount(
    found: Discount | None, code: str | None, now: datetime, reserved: int = 0
) -> Discount | None:
    """The discount a code names, if it may be used now; a named error otherwise."""
    if not code:
        return None
    if found is None:
        raise DiscountCodeInvalid(f"no discount code {code!r}")
    found.check_usable(now, reserved)
    return found


def surcharge_for(
    catalog: Catalog,
    sub: Subscription,
    seats: int,
    interval: str,
    discount: Reduction | None,
    now: datetime,
    tier: str | None = None,
) -> Surcharge:
    """What moving `sub` to `seats` on `interval` in `tier` (None: its own) costs as of `now`
    (nothing in a trial): the same rule, with the new tier's price."""
    old = catalog.price(sub.license_type, sub.interval, sub.tier)
    new = catalog.price(sub.license_type, interval, tier or sub.tier)
    return compute_surcharge(
        Plan(old.unit_amount, sub.seats, sub.interval, old.currency),
        Plan(new.unit_amount, seats, interval, new.currency),
        sub.current_period_start,
        now,
        trial=sub.in_trial,
        discount=discount,
    )
