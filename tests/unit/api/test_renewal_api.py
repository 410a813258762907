"""Changes at renewal over the org API and the pages (SQLite, fake Stripe gateway): schedule,
see it pending with its date and the next invoice's amount, cancel it; the named errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api import create_app
from config.database import make_engine
from config.tasks import SCHEDULE_CHANGE
from domain.model import Member
from services import licenses
from services.upgrades import renewal
from tests.builders import build_world
from tests.fakes import FakeGateway, FixedClock, fake_deps
from tests.unit.api.test_pages import csrf, sign_in

NOW = datetime(2022, 1, 11, tzinfo=UTC)
NEXT = {"at": "2023-01-01T00:00:00Z", "amount": 30000, "currency": "usd"}
CHANGE = {"license_type": "node_locked", "seats": 3, "interval": "month"}


@pytest.fixture
def env(sqlite_settings):
    app = create_app(sqlite_settings)
    gateway = FakeGateway()
    deps = fake_deps(FixedClock(NOW), gateway)
    app.extensions["seatflow"].deps = deps
    sent: list = []
    app.extensions["seatflow"].enqueue = lambda name, args: sent.append((name, args))
    engine = make_engine(sqlite_settings)
    world = build_world(engine, seats=5, interval="year")
    return {
        "client": app.test_client(),
        "world": world,
        "sent": sent,
        "gateway": gateway,
        "deps": deps,
        "app": app,
        "engine": engine,
    }


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def url(world, path: str = "") -> str:
    return f"/api/v1/organizations/{world.org_id}{path}"


def run_tasks(env) -> None:
    """The Stripe step sent after the commit, as a worker runs it."""
    app, sent = env["app"], env["sent"]
    while sent:
        name, args = sent.pop(0)
        if name == SCHEDULE_CHANGE:
            with app.app_context():
                from api.context import uow

                renewal.push_change(args[0], uow(), env["deps"])


def test_an_owner_schedules_a_change_and_sees_it_pending_with_date_and_amount(env) -> None:
    client, world = env["client"], env["world"]
    response = client.post(
        url(world, "/scheduled-changes"), headers=auth(world.tokens["owner"]), json=CHANGE
    )
    assert response.status_code == 202
    body = response.json
    assert body["state"] == "scheduling"
    assert body["from"] == {"seats": 5, "interval": "year", "tier": "standard"}
    assert body["to"] == {"seats": 3, "interval": "month", "tier": "standard"}
    assert body["effective_at"] == "2023-01-01T00:00:00Z"
    assert body["next_invoice"] == NEXT
    assert body["charged_now"] == 0
    assert env["sent"] == [(SCHEDULE_CHANGE, [body["id"]])]
    run_tasks(env)
    assert [r.quantity for r in env["gateway"].schedules] == [3]

    shown = client.get(
        url(world, f"/scheduled-changes/{body['id']}"), headers=auth(world.tokens["member"])
    ).json
    assert shown["state"] == "scheduled" and shown["pending"] is True
    [sub] = client.get(url(world, "/subscriptions"), headers=auth(world.tokens["member"])).json[
        "subscriptions"
    ]
    assert sub["scheduled_change"]["id"] == body["id"]
    assert sub["next_invoice"] == NEXT
    listed = client.get(url(world, "/scheduled-changes"), headers=auth(world.tokens["member"]))
    assert [c["id"] for c in listed.json["scheduled_changes"]] == [body["id"]]


def test_a_member_gets_403_and_nothing_is_sent(env) -> None:
    client, world = env["client"], env["world"]
    response = client.post(
        url(world, "/scheduled-changes"), headers=auth(world.tokens["member"]), json=CHANGE
    )
    assert (response.status_code, response.json["error"]["code"]) == (403, "forbidden_role")
    assert env["sent"] == []


def test_going_up_twice_or_below_offline_seats_are_named_errors(env) -> None:
    client, world = env["client"], env["world"]
    headers = auth(world.tokens["owner"])
    changes = url(world, "/scheduled-changes")
    more = client.post(changes, headers=headers, json=CHANGE | {"seats": 6})
    assert (more.status_code, more.json["error"]["code"]) == (422, "change_not_downward")
    owner = Member(world.owner["id"], world.org_id, "owner@acme.example", "owner")
    for machine in ("m1", "m2", "m3", "m4"):
        licenses.activate_offline(
            _uow(env),
            env["deps"],
            world.org_id,
            owner,
            "node_locked",
            machine,
        )
    below = client.post(url(world, "/scheduled-changes"), headers=headers, json=CHANGE)
    assert (below.status_code, below.json["error"]["code"]) == (422, "seats_below_offline_licenses")
    assert "4 active offline licenses hold 4 seats" in below.json["error"]["message"]
    ok = client.post(url(world, "/scheduled-changes"), headers=headers, json=CHANGE | {"seats": 4})
    assert ok.status_code == 202
    again = client.post(
        url(world, "/scheduled-changes"), headers=headers, json=CHANGE | {"seats": 4}
    )
    assert (again.status_code, again.json["error"]["code"]) == (409, "change_already_scheduled")
    listed = client.post(
        url(world, "/scheduled-changes"),
        headers=headers,
        json=CHANGE | {"license_type": ["node_locked", "floating"]},
    )
    assert (listed.status_code, listed.json["error"]["code"]) == (
        422,
        "one_license_type_per_upgrade",
    )


def _uow(env):
    from adapters.unit_of_work import SqlUnitOfWork

    return SqlUnitOfWork(env["engine"])


def test_cancel_releases_stripes_schedule_and_only_until_the_period_ends(env) -> None:
    client, world = env["client"], env["world"]
    headers = auth(world.tokens["owner"])
    change = client.post(url(world, "/scheduled-changes"), headers=headers, json=CHANGE).json
    run_tasks(env)
    env["gateway"].objects[f"sub_sched_{change['id']}"] = {
        "id": f"sub_sched_{change['id']}",
        "status": "active",
        "current_phase": {"start_date": 1640995200, "end_date": 1672531200},
        "phases": [],
    }
    member = client.post(
        url(world, f"/scheduled-changes/{change['id']}/cancel"),
        headers=auth(world.tokens["member"]),
    )
    assert member.status_code == 403
    response = client.post(url(world, f"/scheduled-changes/{change['id']}/cancel"), headers=headers)
    assert (response.status_code, response.json["state"]) == (200, "canceled")
    assert env["gateway"].released == [f"sub_sched_{change['id']}"]
    again = client.post(url(world, f"/scheduled-changes/{change['id']}/cancel"), headers=headers)
    assert (again.status_code, again.json["error"]["code"]) == (409, "change_not_cancelable")
    missing = client.post(url(world, "/scheduled-changes/chg_nope/cancel"), headers=headers)
    assert missing.status_code == 404


def test_the_pages_schedule_show_and_cancel_a_change(env) -> None:
    client, world = env["client"], env["world"]
    sign_in(client, world.tokens["owner"])
    page = client.get(f"/orgs/{world.org_id}/subscriptions").get_data(as_text=True)
    assert ">Change at renewal<" in page
    form = client.get(f"/orgs/{world.org_id}/renewal/node_locked").get_data(as_text=True)
    assert "Nothing is charged or refunded now" in form
    assert 'max="5"' in form
    response = client.post(
        f"/orgs/{world.org_id}/renewal/node_locked",
        data={"csrf_token": csrf(form), "seats": "3", "interval": "month", "tier": "standard"},
    )
    assert response.status_code == 302
    run_tasks(env)
    page = client.get(f"/orgs/{world.org_id}/subscriptions").get_data(as_text=True)
    assert 'id="scheduled-changes"' in page
    assert "2023-01-01" in page and "300.00 USD" in page and "3 seats, monthly" in page
    [change] = renewal.changes_of(_uow(env), world.org_id)
    env["gateway"].objects[f"sub_sched_{change.id}"] = {
        "id": f"sub_sched_{change.id}",
        "status": "active",
        "current_phase": {"start_date": 1640995200, "end_date": 1672531200},
        "phases": [],
    }
    response = client.post(
        f"/orgs/{world.org_id}/scheduled-changes/{change.id}/cancel",
        data={"csrf_token": csrf(page)},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "canceled" in page.lower() and 'id="scheduled-changes"' not in page


def test_a_member_sees_the_pending_change_but_no_form_and_gets_403(env) -> None:
    client, world = env["client"], env["world"]
    client.post(url(world, "/scheduled-changes"), headers=auth(world.tokens["owner"]), json=CHANGE)
    sign_in(client, world.tokens["member"])
    page = client.get(f"/orgs/{world.org_id}/subscriptions").get_data(as_text=True)
    assert 'id="scheduled-changes"' in page and ">Cancel change<" not in page
    assert ">Change at renewal<" not in page
    response = client.post(
        f"/orgs/{world.org_id}/renewal/node_locked",
        data={"csrf_token": csrf(page), "seats": "3", "interval": "month"},
    )
    assert response.status_code == 403


def test_a_cancel_while_stripe_is_down_changes_nothing_and_says_so(env) -> None:
    from domain.ports import ChargeUnavailable

    client, world = env["client"], env["world"]
    change = client.post(
        url(world, "/scheduled-changes"), headers=auth(world.tokens["owner"]), json=CHANGE
    ).json
    run_tasks(env)
    schedule_id = f"sub_sched_{change['id']}"
    env["gateway"].objects[schedule_id] = {"id": schedule_id, "status": "active", "phases": []}
    env["gateway"].release_error = ChargeUnavailable("network", "Stripe did not answer")
    sign_in(client, world.tokens["owner"])
    page = client.get(f"/orgs/{world.org_id}/subscriptions").get_data(as_text=True)
    response = client.post(
        f"/orgs/{world.org_id}/scheduled-changes/{change['id']}/cancel",
        data={"csrf_token": csrf(page)},
        follow_redirects=True,
    )
    assert "Stripe is briefly unavailable: nothing was canceled" in response.get_data(as_text=True)
    api = client.post(
        url(world, f"/scheduled-changes/{change['id']}/cancel"),
        headers=auth(world.tokens["owner"]),
    )
    assert (api.status_code, api.json["error"]["code"]) == (503, "stripe_unavailable")
    shown = client.get(
        url(world, f"/scheduled-changes/{change['id']}"), headers=auth(world.tokens["owner"])
    )
    assert shown.json["state"] == "scheduled"


def test_the_upgrade_form_says_an_upgrade_cancels_the_pending_change(env) -> None:
    client, world = env["client"], env["world"]
    client.post(url(world, "/scheduled-changes"), headers=auth(world.tokens["owner"]), json=CHANGE)
    sign_in(client, world.tokens["owner"])
    form = client.get(f"/orgs/{world.org_id}/upgrade/node_locked").get_data(as_text=True)
    assert 'id="cancels-scheduled-change"' in form
    assert "this upgrade applies now and cancels it" in form
