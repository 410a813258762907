"""Who may download offline files, what may be cached, and how an unknown page answers."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from api import create_app
from config.database import make_engine
from services import admin
from services import licenses as license_service
from tests.builders import build_world
from tests.fakes import FakeGateway, FixedClock, fake_deps
from tests.unit.api.test_pages import sign_in


@pytest.fixture
def annual(sqlite_settings):
    """An annual node-locked subscription with one offline machine, and an operator."""
    app = create_app(sqlite_settings)
    deps = fake_deps(FixedClock(datetime(2022, 1, 11, tzinfo=UTC)), FakeGateway())
    app.extensions["seatflow"].deps = deps
    app.extensions["seatflow"].enqueue = lambda name, args: None
    engine = make_engine(sqlite_settings)
    world = build_world(engine, interval="year")
    uow = SqlUnitOfWork(engine)
    operator = admin.add_member(uow, world.org_id, "ops@acme.example", "operator")
    world.tokens["operator"] = admin.create_token(uow, operator["id"])["token"]
    with uow:
        owner = uow.members.get(world.owner["id"])
    assert owner is not None
    item, _ = license_service.activate_offline(uow, deps, world.org_id, owner, "node_locked", "m-1")
    return app, world, item.id


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("admin", 200), ("member", 403), ("operator", 403)]
)
def test_only_owners_and_admins_download_offline_files(annual, role: str, status: int) -> None:
    app, world, activation = annual
    api = app.test_client().get(
        f"/api/v1/organizations/{world.org_id}/offline-licenses/{activation}/file",
        headers=bearer(world.tokens[role]),
    )
    assert api.status_code == status
    client = app.test_client()
    sign_in(client, world.tokens[role])
    page = client.get(f"/orgs/{world.org_id}/offline/node_locked/{activation}/file")
    assert page.status_code == status
    listing = client.get(f"/orgs/{world.org_id}/offline/node_locked").get_data(as_text=True)
    assert (f"{activation}/file" in listing) == (status == 200)


def test_authenticated_pages_api_answers_and_downloads_are_not_stored(annual) -> None:
    app, world, activation = annual
    client = app.test_client()
    sign_in(client, world.tokens["owner"])
    org = world.org_id
    for path in (
        f"/orgs/{org}/subscriptions",
        f"/orgs/{org}/history",
        f"/orgs/{org}/upgrade/node_locked",
        f"/orgs/{org}/offline/node_locked",
        f"/orgs/{org}/offline/node_locked/{activation}/file",
        "/signin",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers.get("Cache-Control") == "no-store", path
    missing = client.get(f"/orgs/{org}/licenses/node_locked/file")  # none issued yet
    assert missing.headers.get("Cache-Control") == "no-store"
    assert client.get("/static/app.css").headers.get("Cache-Control") != "no-store"
    api = app.test_client()
    for path in (
        "/subscriptions",
        "/upgrades",
        "/licenses",
        f"/offline-licenses/{activation}/file",
    ):
        response = api.get(
            f"/api/v1/organizations/{org}{path}", headers=bearer(world.tokens["owner"])
        )
        assert response.status_code == 200, path
        assert response.headers.get("Cache-Control") == "no-store", path
    unauthenticated = api.get(f"/api/v1/organizations/{org}/subscriptions")
    assert unauthenticated.headers.get("Cache-Control") == "no-store"


def test_an_unknown_page_is_an_html_page_and_an_unknown_api_path_json(annual) -> None:
    app, _, _ = annual
    client = app.test_client()
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert re.search(r"<h1>Not Found</h1>", page.get_data(as_text=True))
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.mimetype == "application/json"
    assert api.json["error"]["code"] == "not_found"
