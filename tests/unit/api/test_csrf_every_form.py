"""Every form of the pages refuses a POST without the session's CSRF token, *Pay* included.

The routes are found, not listed: every rule of the app that takes POST (or another unsafe
method) outside the token-authenticated JSON API `/api/v1` is posted to, so a new form is
held as soon as it exists. Each rendered page's forms are checked the same way: each posts
to such a rule and carries the token."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask

from adapters.unit_of_work import SqlUnitOfWork
from api import create_app
from config.database import make_engine
from domain.commands import RequestEstimate, SubmitUpgrade
from domain.renewal import ScheduleChange
from services import admin, stripe_events
from services import licenses as license_service
from services.upgrades import charge as upgrade_charge
from services.upgrades import renewal
from services.upgrades import request as upgrade_request
from tests.builders import build_world, store_event, subscription_event
from tests.fakes import FakeGateway, FixedClock, fake_deps
from tests.unit.api.test_operator_pages import dead_event, state_of
from tests.unit.api.test_pages import csrf, sign_in

NOW = datetime(2022, 1, 11, tzinfo=UTC)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
JSON_API = "/api/"  # authenticated by a bearer token that a browser never sends by itself
REFUSED = "the form expired; reload the page"


def page_routes(app: Flask) -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) of every unsafe route a browser session can reach."""
    return sorted(
        (method, rule.rule, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith(JSON_API)
        for method in sorted(UNSAFE & (rule.methods or set()))
    )


@pytest.fixture
def shop(sqlite_settings) -> dict[str, Any]:
    """An organization with an annual node-locked subscription, its license and one offline
    license, an open estimate, a failed upgrade, a dead event, an operator, and a change
    scheduled for the renewal."""
    app = create_app(sqlite_settings)
    gateway = FakeGateway()
    deps = fake_deps(FixedClock(NOW), gateway)
    sent: list[Any] = []
    app.extensions["seatflow"].deps = deps
    app.extensions["seatflow"].enqueue = lambda name, args: sent.append((name, args))
    engine = make_engine(sqlite_settings)
    uow = SqlUnitOfWork(engine)
    world = build_world(engine, with_subscription=False)
    event = subscription_event("cus_acme", seats=3, interval="year")
    stripe_events.process_stripe_event(store_event(engine, event), uow, deps)
    owner = world.owner["id"]
    failed = _failed_upgrade(uow, deps, gateway, world.org_id, owner)
    estimate = upgrade_request.request_estimate(
        RequestEstimate(world.org_id, owner, "node_locked", 5, "year"), uow, deps
    )
    with uow:
        member = uow.members.get(owner)
    assert member is not None
    activation, _ = license_service.activate_offline(
        uow, deps, world.org_id, member, "node_locked", "m-1"
    )
    change = renewal.schedule_change(
        ScheduleChange(world.org_id, owner, "node_locked", 2, "year"), uow, deps
    )
    operator = admin.add_member(uow, world.org_id, "ops@acme.example", "operator")
    world.tokens["operator"] = admin.create_token(uow, operator["id"])["token"]
    gateway.charges.clear()
    sent.clear()
    return {
        "app": app,
        "engine": engine,
        "uow": uow,
        "gateway": gateway,
        "sent": sent,
        "world": world,
        "values": {
            "org_id": world.org_id,
            "license_type": "node_locked",
            "upgrade_id": failed,
            "activation_id": activation.id,
            "event_id": dead_event(engine),
            "change_id": change.id,
        },
        # what each form would act on, were it let through
        "form": {
            "token": world.tokens["owner"],
            "estimate_id": estimate.id,
            "idempotency_key": "csrf-check-1",
            "seats": "5",
            "interval": "year",
            "machine_id": "m-2",
        },
    }


def _failed_upgrade(uow, deps, gateway: FakeGateway, org_id: str, owner: str) -> str:
    estimate = upgrade_request.request_estimate(
        RequestEstimate(org_id, owner, "node_locked", 4, "year"), uow, deps
    )
    upgrade, _ = upgrade_request.submit_upgrade(
        SubmitUpgrade(org_id, owner, estimate.id), uow, deps
    )
    gateway.decline = "card_declined"
    assert upgrade_charge.charge_upgrade(upgrade.id, uow, deps) == "payment_failed"
    gateway.decline = None
    return upgrade.id


def _url(rule: str, values: dict[str, str]) -> str:
    names = re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule)
    missing = [n for n in names if n not in values]
    assert not missing, f"{rule}: give the test a sample value for {missing}"
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)], rule)


def _role(endpoint: str) -> str:
    return "operator" if endpoint.startswith("operator.") else "owner"


def _signed_in(shop: dict[str, Any], role: str):
    client = shop["app"].test_client()
    assert sign_in(client, shop["world"].tokens[role]).status_code == 302
    return client


def _state(shop: dict[str, Any]) -> dict[str, Any]:
    world, uow = shop["world"], shop["uow"]
    with uow:
        estimate = uow.upgrades.estimate(world.org_id, shop["form"]["estimate_id"])
        failed = uow.upgrades.get(shop["values"]["upgrade_id"])
        activations = [
            (a.machine_id, a.active) for a in uow.licenses.activations(world.org_id, "node_locked")
        ]
        owner = uow.members.get(world.owner["id"])
        changes = [(c.id, c.state) for c in uow.changes.of_organization(world.org_id)]
    return {
        "changes": changes,
        "estimate": estimate.status if estimate else None,
        "failed_upgrade": failed.state if failed else None,
        "offline": activations,
        "owner_sessions": owner.session_version if owner else None,
        "dead_event": state_of(shop["engine"], shop["values"]["event_id"]),
        "stripe": (list(shop["gateway"].charges), list(shop["gateway"].setups)),
        "tasks": list(shop["sent"]),
    }


def test_the_pages_have_unsafe_routes_to_hold(sqlite_settings) -> None:
    found = {endpoint for _, _, endpoint in page_routes(create_app(sqlite_settings))}
    assert {"pages.pay", "pages.signin", "billing.update_payment_method", "operator.redrive"} <= (
        found
    )


@pytest.mark.parametrize("token", [None, "", "forged-token"], ids=["none", "empty", "forged"])
def test_every_page_route_refuses_a_post_without_the_sessions_csrf_token(
    shop: dict[str, Any], token: str | None
) -> None:
    before = _state(shop)
    routes = page_routes(shop["app"])
    for method, rule, endpoint in routes:
        client = _signed_in(shop, _role(endpoint))
        data = dict(shop["form"]) | ({} if token is None else {"csrf_token": token})
        response = client.open(_url(rule, shop["values"]), method=method, data=data)
        assert (response.status_code, REFUSED in response.get_data(as_text=True)) == (
            400,
            True,
        ), f"{method} {rule} ({endpoint}) took a post without the CSRF token"
    assert _state(shop) == before


def test_with_the_token_the_same_posts_reach_their_views(shop: dict[str, Any]) -> None:
    """The refusals above are the CSRF check's, not a wrong address or a missing form field."""
    for method, rule, endpoint in page_routes(shop["app"]):
        client = _signed_in(shop, _role(endpoint))
        token = csrf(client.get("/signin").get_data(as_text=True))
        data = dict(shop["form"]) | {"csrf_token": token}
        response = client.open(_url(rule, shop["values"]), method=method, data=data)
        assert response.status_code != 404, f"{method} {rule}: no such page"
        assert REFUSED not in response.get_data(as_text=True), f"{method} {rule} refused"


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "method": (a.get("method") or "get").upper(),
                    "action": a.get("action"),
                    "fields": [],
                }
            )
        elif tag in ("input", "button") and self.forms and a.get("name"):
            self.forms[-1]["fields"].append(a["name"])


def _forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def test_every_form_on_the_pages_posts_to_a_held_route_with_the_token(
    shop: dict[str, Any],
) -> None:
    app, values = shop["app"], shop["values"]
    held = {(m, _url(rule, values)) for m, rule, _ in page_routes(app)}
    org, lt = values["org_id"], values["license_type"]
    pages = {
        "owner": [
            "/signin",
            f"/orgs/{org}/subscriptions",
            f"/orgs/{org}/upgrade/{lt}",
            f"/orgs/{org}/upgrades/{values['upgrade_id']}",
            f"/orgs/{org}/offline/{lt}",
            f"/orgs/{org}/history",
            f"/orgs/{org}/renewal/{lt}",
        ],
        "operator": ["/operator", "/operator/reconciliation"],
    }
    seen = 0
    for role, paths in pages.items():
        client = _signed_in(shop, role)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            for form in _forms(response.get_data(as_text=True)):
                if form["method"] == "GET":
                    continue
                seen += 1
                action = form["action"] or path
                assert (form["method"], action) in held, f"{path}: a form posts to {action}"
                assert "csrf_token" in form["fields"], f"{path}: the form to {action} has no token"
    assert seen >= 5
