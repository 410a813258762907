"""Who may do what, over Flask's test client: a Member cannot cancel an upgrade, a removed
member's session and token stop working, and one organization's token or session never
downloads another organization's license files."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from adapters.orm import members
from adapters.unit_of_work import SqlUnitOfWork
from api import create_app
from config.database import make_engine
from services import admin, stripe_events
from services.upgrades import charge as upgrade_charge
from tests.builders import build_world, store_event, subscription_event
from tests.fakes import FakeGateway, FixedClock, fake_deps
from tests.unit.api.test_pages import csrf, sign_in

NOW = datetime(2022, 1, 11, tzinfo=UTC)
SIGNED = b'"signature"'  # what a license file carries and an error never does


@pytest.fixture
def site(sqlite_settings):
    app = create_app(sqlite_settings)
    gateway = FakeGateway()
    app.extensions["seatflow"].deps = fake_deps(FixedClock(NOW), gateway)
    app.extensions["seatflow"].enqueue = lambda name, args: None
    engine = make_engine(sqlite_settings)
    return app, engine, gateway


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api(org_id: str, path: str = "") -> str:
    return f"/api/v1/organizations/{org_id}{path}"


def submitted(client, world) -> str:
    headers = auth(world.tokens["owner"])
    estimate = client.post(
        api(world.org_id, "/estimates"),
        headers=headers,
        json={"license_type": "node_locked", "seats": 2, "interval": "month"},
    ).json
    created = client.post(
        api(world.org_id, "/upgrades"), headers=headers, json={"estimate_id": estimate["id"]}
    )
    assert created.status_code == 202
    return str(created.json["id"])


# -- cancel --------------------------------------------------------------------------------


def test_a_member_cannot_cancel_an_upgrade_through_the_api(site) -> None:
    app, engine, _ = site
    world = build_world(engine)
    client = app.test_client()
    upgrade_id = submitted(client, world)
    refused = client.post(
        api(world.org_id, f"/upgrades/{upgrade_id}/cancel"), headers=auth(world.tokens["member"])
    )
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "forbidden_role"
    shown = client.get(
        api(world.org_id, f"/upgrades/{upgrade_id}"), headers=auth(world.tokens["owner"])
    )
    assert shown.json["state"] == "requested"
    assert [h["to"] for h in shown.json["history"]] == ["requested"]
    canceled = client.post(
        api(world.org_id, f"/upgrades/{upgrade_id}/cancel"), headers=auth(world.tokens["admin"])
    )
    assert (canceled.status_code, canceled.json["state"]) == (200, "canceled")


def test_a_member_cannot_cancel_or_pay_again_from_the_pages(site) -> None:
    """The pages offer no cancel; whatever posts there, or *Pay again*, is refused to a
    Member and leaves the upgrade as it was."""
    app, engine, gateway = site
    world = build_world(engine)
    client = app.test_client()
    upgrade_id = submitted(client, world)
    gateway.decline = "card_declined"
    assert (
        upgrade_charge.charge_upgrade(
            upgrade_id, SqlUnitOfWork(engine), app.extensions["seatflow"].deps
        )
        == "payment_failed"
    )
    sign_in(client, world.tokens["member"])
    page = client.get(f"/orgs/{world.org_id}/upgrades/{upgrade_id}").get_data(as_text=True)
    token = csrf(page)
    for action in ("cancel", "retry"):
        response = client.post(
            f"/orgs/{world.org_id}/upgrades/{upgrade_id}/{action}", data={"csrf_token": token}
        )
        assert response.status_code in (403, 404, 405), action
    shown = client.get(
        api(world.org_id, f"/upgrades/{upgrade_id}"), headers=auth(world.tokens["owner"])
    )
    assert shown.json["state"] == "payment_failed"
    assert len(gateway.charges) == 1


# -- removed members -----------------------------------------------------------------------


def _page(client, world) -> int:
    return int(client.get(f"/orgs/{world.org_id}/subscriptions").status_code)


def test_a_removed_members_session_ends_and_the_token_no_longer_signs_in(site) -> None:
    app, engine, _ = site
    world = build_world(engine)
    client = app.test_client()
    assert sign_in(client, world.tokens["admin"]).status_code == 302
    assert _page(client, world) == 200
    admin.remove_member(SqlUnitOfWork(engine), world.admin["id"])
    response = client.get(f"/orgs/{world.org_id}/subscriptions")
    assert (response.status_code, response.headers["Location"]) == (302, "/signin")
    again = app.test_client()
    assert sign_in(again, world.tokens["admin"]).status_code == 401
    assert _page(again, world) == 302
    refused = again.get(api(world.org_id, "/subscriptions"), headers=auth(world.tokens["admin"]))
    assert refused.status_code == 401


def test_a_member_marked_removed_loses_a_session_that_began_before(site) -> None:
    """The session version is one guard; a removed member is out whatever it says."""
    app, engine, _ = site
    world = build_world(engine)
    client = app.test_client()
    assert sign_in(client, world.tokens["admin"]).status_code == 302
    with engine.begin() as conn:  # removed, the session version left as it was
        conn.execute(
            update(members).where(members.c.id == world.admin["id"]).values(removed_at=NOW)
        )
    assert _page(client, world) == 302
    assert client.get(f"/orgs/{world.org_id}/history").status_code == 302
    assert sign_in(app.test_client(), world.tokens["admin"]).status_code == 401


# -- license files -------------------------------------------------------------------------


def two_organizations(app, engine):
    """Organization A with an annual node-locked subscription (license v1 and one offline
    license issued), and organization B with its own."""
    deps = app.extensions["seatflow"].deps
    a = build_world(engine, customer="cus_a", with_subscription=False)
    event = subscription_event("cus_a", interval="year", sub_id="sub_a")
    stripe_events.process_stripe_event(store_event(engine, event), SqlUnitOfWork(engine), deps)
    b = build_world(engine, customer="cus_b", sub_id="sub_b")
    client = app.test_client()
    [license_a] = client.get(api(a.org_id, "/licenses"), headers=auth(a.tokens["owner"])).json[
        "current"
    ]
    offline_a = client.post(
        api(a.org_id, "/offline-licenses"),
        headers=auth(a.tokens["owner"]),
        json={"license_type": "node_locked", "machine_id": "m-1"},
    ).json
    return a, b, license_a["id"], offline_a["id"]


def test_a_license_file_of_one_organization_is_not_downloaded_with_anothers_token(site) -> None:
    app, engine, _ = site
    a, b, license_id, offline_id = two_organizations(app, engine)
    client = app.test_client()
    own = client.get(
        api(a.org_id, f"/licenses/{license_id}/file"), headers=auth(a.tokens["member"])
    )
    assert own.status_code == 200 and SIGNED in own.data
    for role in ("owner", "member"):
        theirs = auth(b.tokens[role])
        for path in (f"/licenses/{license_id}/file", f"/offline-licenses/{offline_id}/file"):
            by_a = client.get(api(a.org_id, path), headers=theirs)
            assert by_a.status_code == 404 and SIGNED not in by_a.data
            assert by_a.json["error"]["code"] == "organization_not_found"
            by_b = client.get(api(b.org_id, path), headers=theirs)
            # A member may not download offline files at all (403), anyone else: not found.
            refused = 403 if role == "member" and "offline" in path else 404
            assert by_b.status_code == refused and SIGNED not in by_b.data
    anonymous = client.get(api(a.org_id, f"/licenses/{license_id}/file"))
    assert anonymous.status_code == 401


def test_a_license_file_of_one_organization_is_not_downloaded_from_anothers_pages(site) -> None:
    app, engine, _ = site
    a, b, _, offline_id = two_organizations(app, engine)
    client = app.test_client()
    assert sign_in(client, b.tokens["owner"]).status_code == 302
    for path in ("/licenses/node_locked/file", f"/offline/node_locked/{offline_id}/file"):
        response = client.get(f"/orgs/{a.org_id}{path}")
        assert response.status_code == 404 and SIGNED not in response.data
    own = app.test_client()
    sign_in(own, a.tokens["owner"])
    assert own.get(f"/orgs/{a.org_id}/licenses/node_locked/file").status_code == 200
