"""Token expiry, revocation and the session version on real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from domain.tokens import token_hash
from services import directory
from tests.builders import build_world

NOW = datetime(2022, 1, 11, tzinfo=UTC)


def test_expired_and_revoked_tokens_are_refused_and_revocation_ends_sessions(
    pg_settings,
) -> None:
    engine = make_engine(pg_settings)
    world = build_world(engine)
    uow = SqlUnitOfWork(engine)
    token = directory.create_token(uow, world.admin["id"], NOW, 30)
    with uow:
        found = uow.members.valid_token(token_hash(token["token"]), NOW + timedelta(days=29))
        assert found is not None and found[1] == NOW + timedelta(days=30)
        assert uow.members.valid_token(token_hash(token["token"]), NOW + timedelta(days=30)) is None
    assert directory.revoke_token(uow, token["id"], NOW)
    with uow:
        assert uow.members.valid_token(token_hash(token["token"]), NOW) is None
        member = uow.members.get(world.admin["id"])
        assert member is not None and member.session_version == 1
    listed = [t for t in directory.list_tokens(uow, world.org_id) if t["id"] == token["id"]]
    assert listed[0]["revoked_at"] == NOW and listed[0]["expires_at"] == NOW + timedelta(days=30)
    engine.dispose()
