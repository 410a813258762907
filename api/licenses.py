"""`/api/v1/organizations/{org}/licenses` and `/offline-licenses`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api import context
from api.files import download
from api.serializers.licenses import activation as _activation
from api.serializers.licenses import license as _license
from domain.licenses import ActivationNotFound, License, LicenseNotFound
from services import licenses as license_service

bp = Blueprint("licenses", __name__, url_prefix="/api/v1")


@bp.get("/organizations/<org_id>/licenses")
def list_licenses(org_id: str) -> Any:
    context.member_of(org_id)
    with context.uow() as uow:
        history = uow.licenses.history(org_id)
    current = [
        _license(x)
        for x in history
        if x.status != "superseded" and x is _newest(history, x.license_type)
    ]
    return {"current": current, "history": [_license(x) for x in history]}


def _newest(history: list[License], license_type: str) -> License:
    return max((x for x in history if x.license_type == license_type), key=lambda x: x.version)


@bp.get("/organizations/<org_id>/licenses/<license_id>/file")
def license_file(org_id: str, license_id: str) -> Any:
    context.member_of(org_id)
    with context.uow() as uow:
        item = uow.licenses.get(org_id, license_id)
    if item is None:
        raise LicenseNotFound(f"no license {license_id!r}")
    return download(
        license_service.license_file(context.deps(), item), f"{item.id}-v{item.version}"
    )


@bp.get("/organizations/<org_id>/offline-licenses")
def list_offline(org_id: str) -> Any:
    context.member_of(org_id)
    with context.uow() as uow:
        items = uow.licenses.activations(org_id)
        org = uow.organizations.get(org_id)
    seats = {s.license_type: s.seats for s in org.subscriptions} if org else {}
    used: dict[str, int] = {}
    for item in items:
        used[item.license_type] = used.get(item.license_type, 0) + item.active
    return {
        "usage": [
            {"license_type": t, "active": used.get(t, 0), "seats": n} for t, n in seats.items()
        ],
        "offline_licenses": [_activation(x) for x in items],
    }


@bp.post("/organizations/<org_id>/offline-licenses")
def create_offline(org_id: str) -> Any:
    member = context.member_of(org_id)
    data = context.body()
    machine_id = context.field(data, "machine_id", str)
    item, created = license_service.activate_offline(
        context.uow(),
        context.deps(),
        org_id,
        member,
        context.field(data, "license_type", str),
        machine_id,
    )
    body = _activation(item) | {"file": license_service.license_file(context.deps(), item)}
    return body, 201 if created else 200


@bp.get("/organizations/<org_id>/offline-licenses/<activation_id>/file")
def offline_file(org_id: str, activation_id: str) -> Any:
    context.member_of(org_id).require_offline_manager()
    item = license_service.offline_file(context.uow(), context.deps(), org_id, activation_id)
    if item is None:
        raise ActivationNotFound(f"no active offline license {activation_id!r}")
    return download(
        license_service.license_file(context.deps(), item), f"{item.id}-{item.machine_id}"
    )


@bp.delete("/organizations/<org_id>/offline-licenses/<activation_id>")
def release_offline(org_id: str, activation_id: str) -> Any:
    member = context.member_of(org_id)
    item = license_service.release_offline(
        context.uow(), context.deps(), org_id, member, activation_id
    )
    return _activation(item)
