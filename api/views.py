"""`/api/v1/organizations/{org}/…`: subscriptions, estimates, upgrades."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, request

from adapters.tokens import token_hash
from adapters.unit_of_work import SqlUnitOfWork
from api import serializers
from api.errors import ApiError
from domain.commands import CancelUpgrade, RequestEstimate, SubmitUpgrade
from domain.errors import OneLicenseTypePerUpgrade, OrganizationNotFound, UpgradeNotFound
from domain.model import Interval, Member
from services import upgrades as upgrade_service
from services.deps import Deps

INTERVALS = tuple(i.value for i in Interval)
bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_SEATS = 100_000


def uow() -> SqlUnitOfWork:
    ext = current_app.extensions
    return SqlUnitOfWork(ext["seatflow.engine"], enqueue=ext["seatflow.enqueue"])


def deps() -> Deps:
    deps: Deps = current_app.extensions["seatflow.deps"]
    return deps


def member_of(org_id: str) -> Member:
    """The caller: 401 without a valid token, 404 for another organization's ids."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token>")
    with uow() as work:
        member = work.members.by_token_hash(token_hash(token.strip()))
    if member is None or member.removed_at is not None:
        raise ApiError(401, "unauthenticated", "the token is not valid")
    if member.organization_id != org_id:
        raise OrganizationNotFound(f"no organization {org_id!r}")
    g.member = member
    return member


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", "the body must be a JSON object")
    return data


def field(data: dict[str, Any], name: str, kind: type, required: bool = True) -> Any:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ApiError(400, "invalid_request", f"{name} must be a {kind.__name__}")
    if isinstance(value, str) and not (0 < len(value) <= 64):
        raise ApiError(400, "invalid_request", f"{name} must be 1 to 64 characters")
    return value


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
        rows.append(serializers.subscription(sub, amount, price.currency if price else None))
    return {"organization": {"id": org.id, "name": org.name}, "subscriptions": rows}


@bp.get("/organizations/<org_id>/subscriptions")
def subscriptions(org_id: str) -> Any:
    member_of(org_id)
    return subscriptions_of(org_id)


@bp.post("/organizations/<org_id>/estimates")
def create_estimate(org_id: str) -> Any:
    member = member_of(org_id)
    data = body()
    if isinstance(data.get("license_type"), list) or "license_types" in data:
        raise OneLicenseTypePerUpgrade("an upgrade changes exactly one license type")
    seats = field(data, "seats", int)
    if not 1 <= seats <= MAX_SEATS:
        raise ApiError(400, "invalid_request", f"seats must be between 1 and {MAX_SEATS}")
    interval = field(data, "interval", str)
    if interval not in INTERVALS:
        raise ApiError(400, "invalid_request", "interval must be 'month' or 'year'")
    cmd = RequestEstimate(
        organization_id=org_id,
        member_id=member.id,
        license_type=field(data, "license_type", str),
        seats=seats,
        interval=interval,
        discount_code=field(data, "discount_code", str, required=False),
    )
    estimate = upgrade_service.request_estimate(cmd, uow(), deps())
    return serializers.estimate(estimate), 201


@bp.post("/organizations/<org_id>/upgrades")
def create_upgrade(org_id: str) -> Any:
    member = member_of(org_id)
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > 255:
        raise ApiError(400, "invalid_request", "Idempotency-Key is at most 255 characters")
    cmd = SubmitUpgrade(org_id, member.id, field(body(), "estimate_id", str), key)
    upgrade, created = upgrade_service.submit_upgrade(cmd, uow(), deps())
    return serializers.upgrade(upgrade), 202 if created else 200


@bp.get("/organizations/<org_id>/upgrades/<upgrade_id>")
def show_upgrade(org_id: str, upgrade_id: str) -> Any:
    member_of(org_id)
    with uow() as work:
        upgrade = work.upgrades.for_organization(org_id, upgrade_id)
    if upgrade is None:
        raise UpgradeNotFound(f"no upgrade {upgrade_id!r}")
    return serializers.upgrade(upgrade)


@bp.post("/organizations/<org_id>/upgrades/<upgrade_id>/cancel")
def cancel_upgrade(org_id: str, upgrade_id: str) -> Any:
    member = member_of(org_id)
    cmd = CancelUpgrade(org_id, member.id, upgrade_id)
    return serializers.upgrade(upgrade_service.cancel_upgrade(cmd, uow(), deps()))


@bp.get("/openapi.json")
def openapi() -> Any:
    from api.openapi import document

    return document()
