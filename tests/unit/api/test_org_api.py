"""The org API over Flask's test client (SQLite, in-memory broker, fake Stripe gateway)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from api import create_app
from config.database import make_engine
from services import admin
from services.upgrades import charge as upgrade_charge
from tests.builders import build_world
from tests.fakes import FakeGateway, FixedClock, fake_deps


@pytest.fixture
def env(sqlite_settings):
    app = create_app(sqlite_settings)
    app.extensions["seatflow"].deps = fake_deps(
        FixedClock(datetime(2022, 1, 11, tzinfo=UTC)), FakeGateway()
    )
    sent: list = []
    app.extensions["seatflow"].enqueue = lambda name, args: sent.append((name, args))
    world = build_world(make_engine(sqlite_settings))
    return app.test_client(), world, sent, sqlite_settings


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def url(world, path: str = "") -> str:
    return f"/api/v1/organizations/{world.org_id}{path}"


def test_subscriptions_are_listed_for_any_member(env) -> None:
    client, world, _, _ = env
    response = client.get(url(world, "/subscriptions"), headers=auth(world.tokens["member"]))
    assert response.status_code == 200
    [sub] = response.json["subscriptions"]
    assert (sub["license_type"], sub["seats"], sub["interval"]) == ("node_locked", 1, "month")
    assert sub["next_invoice"] == {"at": "2022-02-01T00:00:00Z", "amount": 10000, "currency": "usd"}
    assert sub["upgradable"] is True


def test_the_seed_example_through_the_api(env) -> None:
    client, world, _, _ = env
    response = client.post(
        url(world, "/estimates"),
        headers=auth(world.tokens["owner"]),
        json={"license_type": "node_locked", "seats": 1, "interval": "year"},
    )
    assert response.status_code == 201
    body = response.json
    assert (body["amount"], body["currency"]) == (90486, "usd")
    assert (body["breakdown"]["new_term"], body["breakdown"]["old_term"]) == (97260, 6774)
    assert (body["breakdown"]["old_unused_minutes"], body["breakdown"]["old_total_minutes"]) == (
        30240,
        44640,
    )
    assert body["next_invoice"] == {
        "at": "2023-01-01T00:00:00Z",
        "amount": 100000,
        "currency": "usd",
    }
    assert body["cycle"] == {
        "start": "2022-01-01T00:00:00Z",
        "current_end": "2022-02-01T00:00:00Z",
        "new_end": "2023-01-01T00:00:00Z",
    }
    assert (body["computed_at"], body["expires_at"]) == (
        "2022-01-11T00:00:00Z",
        "2022-01-11T00:15:00Z",
    )


def test_submit_is_202_and_the_same_key_returns_the_same_upgrade(env) -> None:
    client, world, sent, _ = env
    headers = auth(world.tokens["admin"])
    estimate = client.post(
        url(world, "/estimates"),
        headers=headers,
        json={"license_type": "node_locked", "seats": 2, "interval": "month"},
    ).json
    first = client.post(
        url(world, "/upgrades"),
        json={"estimate_id": estimate["id"]},
        headers={**headers, "Idempotency-Key": "abc"},
    )
    again = client.post(
        url(world, "/upgrades"),
        json={"estimate_id": estimate["id"]},
        headers={**headers, "Idempotency-Key": "abc"},
    )
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json["id"] == again.json["id"]
    assert first.json["state"] == "requested"
    assert sent == [("seatflow.charge_upgrade", [first.json["id"]])]
    shown = client.get(url(world, f"/upgrades/{first.json['id']}"), headers=headers).json
    assert shown["history"][0]["cause"] == "submitted by admin@acme.example"
    used = client.post(
        url(world, "/upgrades"), json={"estimate_id": estimate["id"]}, headers=headers
    )
    assert (used.status_code, used.json["error"]["code"]) == (409, "estimate_already_used")
    other = client.post(
        url(world, "/estimates"),
        headers=headers,
        json={"license_type": "node_locked", "seats": 3, "interval": "month"},
    ).json
    second = client.post(
        url(world, "/upgrades"), json={"estimate_id": other["id"]}, headers=headers
    )
    assert second.status_code == 409
    assert second.json["error"]["code"] == "upgrade_already_open"
    reused = client.post(
        url(world, "/upgrades"),
        json={"estimate_id": other["id"]},
        headers={**headers, "Idempotency-Key": "abc"},
    )
    assert (reused.status_code, reused.json["error"]["code"]) == (422, "idempotency_key_reused")
    canceled = client.post(url(world, f"/upgrades/{first.json['id']}/cancel"), headers=headers)
    assert canceled.json["state"] == "canceled"


@pytest.mark.parametrize(
    "headers, status, code",
    [
        ({}, 401, "unauthenticated"),
        ({"Authorization": "Bearer sf_wrong"}, 401, "unauthenticated"),
        ({"Authorization": "Basic abc"}, 401, "unauthenticated"),
    ],
)
def test_requests_without_a_valid_token_are_401(env, headers, status, code) -> None:
    client, world, _, _ = env
    response = client.get(url(world, "/subscriptions"), headers=headers)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)


def test_another_organizations_ids_are_404(env, sqlite_settings) -> None:
    client, world, _, _ = env
    other = admin.create_organization(SqlUnitOfWork(make_engine(sqlite_settings)), "Other")
    response = client.get(
        f"/api/v1/organizations/{other['id']}/subscriptions", headers=auth(world.tokens["owner"])
    )
    assert (response.status_code, response.json["error"]["code"]) == (404, "organization_not_found")
    missing = client.get(url(world, "/upgrades/upg_nope"), headers=auth(world.tokens["owner"]))
    assert missing.status_code == 404


def test_a_member_without_rights_gets_403(env) -> None:
    client, world, _, _ = env
    response = client.post(
        url(world, "/estimates"),
        headers=auth(world.tokens["member"]),
        json={"license_type": "node_locked", "seats": 2, "interval": "month"},
    )
    assert (response.status_code, response.json["error"]["code"]) == (403, "forbidden_role")


def test_a_removed_members_token_is_401(env, sqlite_settings) -> None:
    client, world, _, _ = env
    admin.remove_member(SqlUnitOfWork(make_engine(sqlite_settings)), world.admin["id"])
    response = client.get(url(world, "/subscriptions"), headers=auth(world.tokens["admin"]))
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body, code",
    [
        ({"license_type": "node_locked", "seats": "2", "interval": "month"}, "invalid_request"),
        ({"license_type": "node_locked", "seats": 2, "interval": "week"}, "invalid_request"),
        ({"license_type": "' OR 1=1 --", "seats": 2, "interval": "month"}, "no_license_bought"),
        ({"license_type": "x" * 500, "seats": 2, "interval": "month"}, "invalid_request"),
        (
            {"license_type": ["node_locked", "floating"], "seats": 2, "interval": "month"},
            "one_license_type_per_upgrade",
        ),
        ({"license_type": "node_locked", "seats": 10**9, "interval": "month"}, "invalid_request"),
        ({"license_type": "node_locked", "seats": 0, "interval": "month"}, "invalid_request"),
        ({"license_type": "node_locked", "seats": 1, "interval": "month"}, "nothing_to_change"),
    ],
)
def test_bad_input_is_a_4xx_with_a_json_error(env, body, code) -> None:
    client, world, _, _ = env
    response = client.post(url(world, "/estimates"), headers=auth(world.tokens["owner"]), json=body)
    assert 400 <= response.status_code < 500
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]


def test_an_oversized_body_is_413_json(env) -> None:
    client, world, _, _ = env
    response = client.post(
        url(world, "/estimates"),
        headers=auth(world.tokens["owner"]),
        data=b"{" + b" " * 70000 + b"}",
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"


def test_a_body_that_is_not_json_is_400(env) -> None:
    client, world, _, _ = env
    response = client.post(
        url(world, "/upgrades"),
        headers=auth(world.tokens["owner"]),
        data="nope",
        content_type="text/plain",
    )
    assert (response.status_code, response.json["error"]["code"]) == (400, "invalid_request")


def test_offline_licenses_through_the_api(sqlite_settings) -> None:
    from services import stripe_events
    from tests.builders import store_event, subscription_event

    app = create_app(sqlite_settings)
    deps = fake_deps(FixedClock(datetime(2022, 1, 11, tzinfo=UTC)), FakeGateway())
    app.extensions["seatflow"].deps = deps
    engine = make_engine(sqlite_settings)
    world = build_world(engine, customer="cus_off", with_subscription=False)
    event = subscription_event("cus_off", seats=1, interval="year")
    stripe_events.process_stripe_event(store_event(engine, event), SqlUnitOfWork(engine), deps)
    client, headers = app.test_client(), auth(world.tokens["owner"])

    created = client.post(
        url(world, "/offline-licenses"),
        headers=headers,
        json={"license_type": "node_locked", "machine_id": "m-1"},
    )
    assert created.status_code == 201
    assert '"machine_id": "m-1"' in created.json["file"]
    full = client.post(
        url(world, "/offline-licenses"),
        headers=headers,
        json={"license_type": "node_locked", "machine_id": "m-2"},
    )
    assert (full.status_code, full.json["error"]["code"]) == (409, "offline_seats_exhausted")
    listing = client.get(url(world, "/offline-licenses"), headers=auth(world.tokens["member"]))
    assert listing.json["usage"] == [{"license_type": "node_locked", "active": 1, "seats": 1}]
    file = client.get(url(world, f"/offline-licenses/{created.json['id']}/file"), headers=headers)
    assert file.status_code == 200 and "attachment" in file.headers["Content-Disposition"]
    released = client.delete(url(world, f"/offline-licenses/{created.json['id']}"), headers=headers)
    assert released.json["status"] == "released"

    licenses = client.get(url(world, "/licenses"), headers=headers).json
    [current] = licenses["current"]
    assert (current["version"], current["seats"], current["interval"]) == (1, 1, "year")
    download = client.get(url(world, f"/licenses/{current['id']}/file"), headers=headers)
    assert download.status_code == 200 and b'"kind": "subscription"' in download.data


def test_a_monthly_subscription_gets_422_for_offline_licenses(env) -> None:
    client, world, _, _ = env
    response = client.post(
        url(world, "/offline-licenses"),
        headers=auth(world.tokens["owner"]),
        json={"license_type": "node_locked", "machine_id": "m-1"},
    )
    assert (response.status_code, response.json["error"]["code"]) == (
        422,
        "offline_requires_node_locked_annual",
    )


def test_cancel_while_stripe_is_down_is_503_and_the_upgrade_stays(env) -> None:
    from adapters.stripe_errors import StripeUnavailable

    client, world, _, _ = env
    headers = auth(world.tokens["owner"])
    gateway = client.application.extensions["seatflow"].deps.gateway
    gateway.decline = "Your card was declined."
    estimate = client.post(
        url(world, "/estimates"),
        headers=headers,
        json={"license_type": "node_locked", "seats": 2, "interval": "month"},
    ).json
    upgrade = client.post(
        url(world, "/upgrades"), json={"estimate_id": estimate["id"]}, headers=headers
    ).json
    from adapters.unit_of_work import SqlUnitOfWork

    deps = client.application.extensions["seatflow"].deps
    uow = SqlUnitOfWork(client.application.extensions["seatflow"].engine)
    assert upgrade_charge.charge_upgrade(upgrade["id"], uow, deps) == "payment_failed"
    gateway.void_error = StripeUnavailable("APIConnectionError: timed out", "network")

    response = client.post(url(world, f"/upgrades/{upgrade['id']}/cancel"), headers=headers)

    assert response.status_code == 503
    assert response.json["error"]["code"] == "stripe_unavailable"
    shown = client.get(url(world, f"/upgrades/{upgrade['id']}"), headers=headers).json
    assert shown["state"] == "payment_failed"


def test_3d_secure_offers_the_hosted_page_and_a_failed_payment_can_be_paid_again(env) -> None:
    from adapters.unit_of_work import SqlUnitOfWork

    client, world, sent, _ = env
    headers = auth(world.tokens["owner"])
    deps = client.application.extensions["seatflow"].deps
    uow = SqlUnitOfWork(client.application.extensions["seatflow"].engine)
    hosted = "https://invoice.stripe.com/i/in_x/test"
    deps.gateway.decline, deps.gateway.action_url = "authentication required", hosted
    estimate = client.post(
        url(world, "/estimates"),
        headers=headers,
        json={"license_type": "node_locked", "seats": 2, "interval": "month"},
    ).json
    upgrade = client.post(
        url(world, "/upgrades"), json={"estimate_id": estimate["id"]}, headers=headers
    ).json
    upgrade_charge.charge_upgrade(upgrade["id"], uow, deps)
    shown = client.get(url(world, f"/upgrades/{upgrade['id']}"), headers=headers).json
    assert (shown["state"], shown["payment_url"]) == ("requires_action", hosted)

    deps.gateway.action_url = None
    ev = url(world, f"/upgrades/{upgrade['id']}")
    from services import stripe_events
    from tests.builders import invoice_event, store_event

    failed = invoice_event("invoice.payment_failed", f"in_{upgrade['id']}", upgrade["id"], 6774)
    stripe_events.process_stripe_event(store_event(uow.engine, failed), uow, deps)
    # Stripe says failed for the attempt that needs authentication: still completable there.
    shown = client.get(ev, headers=headers).json
    assert (shown["state"], shown["payment_url"]) == ("requires_action", hosted)
    again = client.post(f"{ev}/retry", headers=headers)  # or paid again, with a new card
    assert (again.status_code, again.json["state"]) == (202, "charging")
    assert sent[-1] == ("seatflow.charge_upgrade", [upgrade["id"]])
