"""Roles: an operator runs seatflow; only an owner or an admin upgrades."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cli.main import build_parser
from domain.errors import NotOwnerOrAdmin
from domain.model import Member, Role


def member(role: str) -> Member:
    return Member(id="mem_1", organization_id="org_1", email="a@example.com", role=role)


def test_an_operator_operates_but_does_not_upgrade() -> None:
    operator = member(Role.OPERATOR)
    assert operator.can_operate and not operator.can_upgrade
    with pytest.raises(NotOwnerOrAdmin):
        operator.require_upgrader()


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.MEMBER])
def test_no_other_role_operates(role: Role) -> None:
    assert not member(role).can_operate


def test_a_removed_operator_no_longer_operates() -> None:
    operator = member(Role.OPERATOR)
    operator.remove(datetime(2026, 11, 1, tzinfo=UTC))
    assert not operator.can_operate


def test_member_add_accepts_the_operator_role() -> None:
    args = build_parser().parse_args(
        ["member", "add", "--org", "org_1", "--email", "o@example.com", "--role", "operator"]
    )
    assert args.role == "operator"
