"""`/api/v1/organizations/{org}/estimates` and `/upgrades`: estimate, submit, follow, cancel."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from api import validation
from api.context import body, deps, field, member_of, uow
from api.serializers import history as history_serializers
from api.serializers import upgrades as serializers
from domain.commands import CancelUpgrade, RequestEstimate, RetryPayment, SubmitUpgrade
from domain.errors import OneLicenseTypePerUpgrade, UpgradeNotFound
from services import receipts
from services.upgrades import charge as upgrade_charge
from services.upgrades import request as upgrade_request

bp = Blueprint("upgrades", __name__, url_prefix="/api/v1")


@bp.post("/organizations/<org_id>/estimates")
def create_estimate(org_id: str) -> Any:
    member = member_of(org_id)
    data = body()
    if isinstance(data.get("license_type"), list) or "license_types" in data:
        raise OneLicenseTypePerUpgrade("an upgrade changes exactly one license type")
    seats = validation.seats(field(data, "seats", int))
    interval = validation.interval(field(data, "interval", str))
    cmd = RequestEstimate(
        organization_id=org_id,
        member_id=member.id,
        license_type=field(data, "license_type", str),
        seats=seats,
        interval=interval,
        discount_code=field(data, "discount_code", str, required=False),
        tier=field(data, "tier", str, required=False) or None,
    )
    estimate = upgrade_request.request_estimate(cmd, uow(), deps())
    return serializers.estimate(estimate), 201


@bp.post("/organizations/<org_id>/upgrades")
def create_upgrade(org_id: str) -> Any:
    member = member_of(org_id)
    key = validation.idempotency_key(request.headers.get("Idempotency-Key"))
    cmd = SubmitUpgrade(org_id, member.id, field(body(), "estimate_id", str), key)
    upgrade, created = upgrade_request.submit_upgrade(cmd, uow(), deps())
    return serializers.upgrade(upgrade), 202 if created else 200


@bp.get("/organizations/<org_id>/upgrades/<upgrade_id>")
def show_upgrade(org_id: str, upgrade_id: str) -> Any:
    member_of(org_id)
    with uow() as work:
        upgrade = work.upgrades.for_organization(org_id, upgrade_id)
    if upgrade is None:
        raise UpgradeNotFound(f"no upgrade {upgrade_id!r}")
    receipt = receipts.receipt_of(uow(), upgrade.id)
    return serializers.upgrade(upgrade) | {"receipt": history_serializers.receipt(receipt)}


@bp.post("/organizations/<org_id>/upgrades/<upgrade_id>/retry")
def retry_payment(org_id: str, upgrade_id: str) -> Any:
    member = member_of(org_id)
    cmd = RetryPayment(org_id, member.id, upgrade_id)
    return serializers.upgrade(upgrade_charge.retry_payment(cmd, uow(), deps())), 202


@bp.post("/organizations/<org_id>/upgrades/<upgrade_id>/cancel")
def cancel_upgrade(org_id: str, upgrade_id: str) -> Any:
    member = member_of(org_id)
    cmd = CancelUpgrade(org_id, member.id, upgrade_id)
    return serializers.upgrade(upgrade_request.cancel_upgrade(cmd, uow(), deps()))
