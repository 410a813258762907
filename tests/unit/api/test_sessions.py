"""Signing out, removing a member and revoking a token end the member's page sessions
(a server-side session version); tokens expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from api import create_app
from config.database import make_engine
from domain.model import Member
from services import admin, directory
from tests.builders import build_world
from tests.fakes import FakeGateway, FixedClock, fake_deps
from tests.unit.api.test_pages import csrf, sign_in

NOW = datetime(2022, 1, 11, tzinfo=UTC)


@pytest.fixture
def site(sqlite_settings):
    app = create_app(sqlite_settings)
    app.extensions["seatflow"].deps = fake_deps(FixedClock(NOW), FakeGateway())
    app.extensions["seatflow"].enqueue = lambda name, args: None
    engine = make_engine(sqlite_settings)
    return app, build_world(engine), SqlUnitOfWork(engine)


def _signed_in(app, world, role: str = "owner"):
    client = app.test_client()
    assert sign_in(client, world.tokens[role]).status_code == 302
    cookie = client.get_cookie("session")
    assert cookie is not None
    return client, cookie.value


def _page(client, world) -> int:
    return int(client.get(f"/orgs/{world.org_id}/subscriptions").status_code)


def test_an_old_cookie_does_not_work_after_signing_out(site) -> None:
    app, world, _ = site
    client, old = _signed_in(app, world)
    page = client.get(f"/orgs/{world.org_id}/subscriptions").get_data(as_text=True)
    client.post("/signout", data={"csrf_token": csrf(page)})
    thief = app.test_client()
    thief.set_cookie("session", old)
    assert _page(thief, world) == 302


def test_revoking_a_token_ends_its_sessions_and_refuses_the_token(site) -> None:
    app, world, uow = site
    client, _ = _signed_in(app, world, "admin")
    [token] = [
        t for t in directory.list_tokens(uow, world.org_id) if t["member_id"] == world.admin["id"]
    ]
    assert directory.revoke_token(uow, token["id"], NOW)
    assert _page(client, world) == 302
    api = client.get(
        f"/api/v1/organizations/{world.org_id}/subscriptions",
        headers={"Authorization": f"Bearer {world.tokens['admin']}"},
    )
    assert api.status_code == 401
    assert not directory.revoke_token(uow, token["id"], NOW)  # already revoked


def test_removing_a_member_bumps_the_session_version(site) -> None:
    app, world, uow = site
    client, _ = _signed_in(app, world, "admin")
    admin.remove_member(uow, world.admin["id"])
    with uow:
        member = uow.members.get(world.admin["id"])
        assert member is not None and member.session_version == 1
    assert _page(client, world) == 302


def test_member_remove_ends_sessions_in_the_domain() -> None:
    member = Member("mem_1", "org_1", "a@b", "admin")
    member.remove(NOW)
    assert (member.removed_at, member.session_version) == (NOW, 1)


def test_an_expired_token_is_refused_by_the_api_and_the_sign_in(site) -> None:
    app, world, uow = site
    old = directory.create_token(uow, world.owner["id"], NOW - timedelta(days=31), 30)
    fresh = directory.create_token(uow, world.owner["id"], NOW - timedelta(days=1), 30)
    assert old["expires_at"] == NOW - timedelta(days=1)
    client = app.test_client()
    url = f"/api/v1/organizations/{world.org_id}/subscriptions"
    auth = {"Authorization": f"Bearer {old['token']}"}
    assert client.get(url, headers=auth).status_code == 401
    assert sign_in(client, old["token"]).status_code == 401
    auth = {"Authorization": f"Bearer {fresh['token']}"}
    assert client.get(url, headers=auth).status_code == 200


def test_a_session_ends_when_its_token_expires(site) -> None:
    app, world, uow = site
    short = directory.create_token(uow, world.owner["id"], NOW - timedelta(hours=23), 1)
    client = app.test_client()
    assert sign_in(client, short["token"]).status_code == 302
    assert _page(client, world) == 200
    app.extensions["seatflow"].deps = fake_deps(FixedClock(NOW + timedelta(hours=2)))
    assert _page(client, world) == 302


def test_listings_show_organizations_members_and_tokens(site) -> None:
    _, world, uow = site
    assert [o["id"] for o in directory.list_organizations(uow)] == [world.org_id]
    members = directory.list_members(uow, world.org_id)
    assert sorted(m["role"] for m in members) == ["admin", "member", "owner"]
    tokens = directory.list_tokens(uow, world.org_id)
    assert len(tokens) == 3 and all("token_hash" not in t for t in tokens)
    assert {t["revoked_at"] for t in tokens} == {None}
