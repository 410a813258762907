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
        pending = {c.license_type: c for c in work.changes.of_organization(org_id) if c.pending}
    if org is None:
        raise OrganizationNotFound(f"no organization {org_id!r}")
    rows = []
    for sub in org.subscriptions:
        price = catalog.by_stripe_price(sub.stripe_price_id)
        amount = price.unit_amount * sub.seats if price else None
        rows.append(
            subscription(
                sub, amount, price.currency if price else None, pending.get(sub.license_type)
            )
        )
    return {"organization": {"id": org.id, "name": org.name}, "subscriptions": rows}


def tier_options(license_type: str, tier: str) -> list[dict[str, Any]]:
    """Today's tier and the higher ones an upgrade may move to, with their per-seat prices."""
    with uow() as work:
        catalog = work.catalog.load()
    return [
        {
            "tier": name,
            "current": name == tier,
            "features": catalog.features(license_type, name),
            "prices": [
                {"interval": p.interval, "unit_amount": p.unit_amount, "currency": p.currency}
                for p in catalog
                if (p.license_type, p.tier) == (license_type, name)
            ],
        }
        for name in catalog.tiers_from(license_type, tier)
    ]


@bp.get("/organizations/<org_id>/subscriptions")
def subscriptions(org_id: str) -> Any:
    member_of(org_id)
    return subscriptions_of(org_id)
