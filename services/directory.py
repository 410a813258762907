"""Who may use an organization: listings of organizations, members and tokens; tokens that
expire and can be revoked; the end of a member's page sessions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.ports import UnitOfWork
from domain.tokens import new_token, token_hash


def list_organizations(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [
            {"id": o.id, "name": o.name, "stripe_customer_id": o.stripe_customer_id}
            for o in sorted(uow.organizations.list(), key=lambda o: o.id)
        ]


def list_members(uow: UnitOfWork, org_id: str) -> list[dict[str, Any]]:
    with uow:
        return [
            {"id": m.id, "email": m.email, "role": m.role, "removed_at": m.removed_at}
            for m in uow.members.of_organization(org_id)
        ]


def list_tokens(uow: UnitOfWork, org_id: str) -> list[dict[str, Any]]:
    with uow:
        return uow.members.tokens(org_id)


def create_token(
    uow: UnitOfWork, member_id: str, now: datetime, expires_in_days: int | None = None
) -> dict[str, Any]:
    """A new bearer token, shown once; it expires after `expires_in_days` (None: never)."""
    if expires_in_days is not None and expires_in_days < 1:
        raise ValueError("a token lives at least one day")
    token = new_token()
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
    with uow:
        member = uow.members.get(member_id)
        if member is None or member.removed_at is not None:
            raise ValueError(f"no member {member_id!r}")
        token_id = uow.members.add_expiring_token(member_id, token_hash(token), now, expires_at)
        uow.commit()
    return {
        "id": token_id,
        "token": token,
        "member_id": member_id,
        "organization_id": member.organization_id,
        "role": member.role,
        "expires_at": expires_at,
    }


def revoke_token(uow: UnitOfWork, token_id: int, now: datetime) -> bool:
    """Refuse the token from now on and end its member's page sessions; False if there is
    no such token or it was revoked already."""
    with uow:
        member_id = uow.members.revoke_token(token_id, now)
        member = uow.members.get(member_id) if member_id else None
        if member is None:
            return False
        member.end_sessions()
        uow.commit()
    return True


def end_sessions(uow: UnitOfWork, member_id: str) -> None:
    """Sign-out: every page session of the member ends, the cookie of this one included."""
    with uow:
        member = uow.members.get(member_id)
        if member is not None:
            member.end_sessions()
            uow.commit()
