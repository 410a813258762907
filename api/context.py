"""What every org API view needs: the unit of work, deps, the calling member, the body."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g, request

from adapters.unit_of_work import SqlUnitOfWork
from api import validation
from api.errors import ApiError
from domain.errors import OrganizationNotFound
from domain.model import Member
from domain.tokens import token_hash
from services.deps import Deps
from web import runtime


def uow() -> SqlUnitOfWork:
    return runtime().unit_of_work()


def deps() -> Deps:
    return runtime().deps


def signed_in_by(token: str) -> tuple[Member, datetime | None] | None:
    """The member a token names, with when it expires: None for a token that is unknown,
    expired, or whose member was removed. The one check of a token, for the API and the
    pages' sign-in alike."""
    with uow() as work:
        found = work.members.valid_token(token_hash(token.strip()), deps().clock.now())
    if found is None or found[0].removed_at is not None:
        return None
    return found


def member_of(org_id: str) -> Member:
    """The caller: 401 without a valid token, 404 for another organization's ids."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token>")
    found = signed_in_by(token)
    if found is None:
        raise ApiError(401, "unauthenticated", "the token is not valid")
    member = found[0]
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
    if kind is str:
        return validation.text(name, value, required)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise validation.invalid(f"{name} must be a {kind.__name__}")
    return value
