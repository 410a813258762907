"""`/api/v1/organizations/{org}/subscriptions`: what the organization has today."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.context import member_of, uow
from api.serializers.subscriptions import subscription
from domain.errors import OrganizationNotFound

bp = Blueprint("subscriptions", __name__, url_prefix="/api/v1")


def subscriptions_of(org_id: str) -> dict[str, Any]:
    """The organization and one row per license type (shared with the pages)."""
    with uow() as work:
        org = work.organizations.get(org_id)
        catalog = work.catalog.load()
    if org is None:
        raise OrganizationNotFound(f"no organization {org_id!r}")
    rows = []
    for sub in org.subscriptions:
        price = catalog.by_stripe_price(sub.stripe_price_id)
        amount = price.unit_amount * sub.seats if price else None
        rows.append(subscription(sub, amount, price.currency if price else None))
    return {"organization": {"id": org.id, "name": org.name}, "subscriptions": rows}


@bp.get("/organizations/<org_id>/subscriptions")
def subscriptions(org_id: str) -> Any:
    member_of(org_id)
    return subscriptions_of(org_id)
