"""The operator pages over Flask's test client: who may see them, what they show, redrive."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from api import create_app
from config.database import make_engine
from services import admin
from tests.builders import build_world, store_event, subscription_event
from tests.fakes import FakeGateway, FixedClock, fake_deps
from tests.unit.api.test_pages import csrf, sign_in

NOW = datetime(2022, 1, 11, tzinfo=UTC)
PAGES = ("/operator", "/operator/reconciliation")


@pytest.fixture
def site(sqlite_settings):
    app = create_app(sqlite_settings)
    app.extensions["seatflow"].deps = fake_deps(FixedClock(NOW), FakeGateway())
    app.extensions["seatflow"].enqueue = lambda name, args: None
    engine = make_engine(sqlite_settings)
    world = build_world(engine)
    uow = SqlUnitOfWork(engine)
    operator = admin.add_member(uow, world.org_id, "ops@acme.example", "operator")
    world.tokens["operator"] = admin.create_token(uow, operator["id"])["token"]
    return app.test_client(), world, engine


def dead_event(engine, event_id: str = "evt_dead_1", error: str = "no such price") -> str:
    event = subscription_event("cus_acme")
    event["id"] = event_id
    store_event(engine, event)
    with SqlUnitOfWork(engine) as uow:
        uow.inbox.mark(event_id, "dead", NOW, error=error)
        uow.commit()
    return event_id


def state_of(engine, event_id: str) -> str | None:
    with SqlUnitOfWork(engine) as uow:
        return uow.inbox.state_of(event_id)


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_owners_admins_and_members_get_403_on_the_operator_pages(site, role: str) -> None:
    client, world, engine = site
    event_id = dead_event(engine)
    sign_in(client, world.tokens[role])
    for page in PAGES:
        assert client.get(page).status_code == 403
    token = csrf(client.get("/signin").get_data(as_text=True))
    response = client.post(
        "/operator/events/redrive", data={"csrf_token": token, "event_id": event_id}
    )
    assert response.status_code == 403
    assert state_of(engine, event_id) == "dead"


def test_the_operator_pages_need_a_signed_in_member(site) -> None:
    client, _, _ = site
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_an_operator_lands_on_the_operator_page_and_sees_both_pages(site) -> None:
    client, world, _ = site
    response = sign_in(client, world.tokens["operator"])
    assert response.headers["Location"].endswith("/operator")
    for page in PAGES:
        assert client.get(page).status_code == 200


def test_the_inbox_page_shows_counts_the_oldest_unapplied_age_and_dead_events(site) -> None:
    client, world, engine = site
    dead_event(engine, error="price_missing: no catalog price")
    waiting = subscription_event("cus_acme", sub_id="sub_waiting")
    waiting["id"] = "evt_waiting"
    store_event(engine, waiting)
    later = datetime.now(UTC) + timedelta(hours=2, minutes=5, seconds=30)
    client.application.extensions["seatflow"].deps = fake_deps(FixedClock(later), FakeGateway())
    sign_in(client, world.tokens["operator"])
    page = client.get("/operator").get_data(as_text=True)
    assert re.search(r'id="oldest-unapplied">2 h 5 min<', page), "the waiting event's age"
    assert 'data-state="dead">1<' in page and 'data-state="received">1<' in page
    assert 'data-state="applied">0<' in page
    assert "evt_dead_1" in page and "price_missing: no catalog price" in page
    assert ">Redrive<" in page


def test_redrive_moves_a_dead_event_back_to_received(site) -> None:
    client, world, engine = site
    event_id = dead_event(engine)
    other = dead_event(engine, "evt_dead_2")
    sign_in(client, world.tokens["operator"])
    token = csrf(client.get("/operator").get_data(as_text=True))
    response = client.post(
        "/operator/events/redrive", data={"csrf_token": token, "event_id": event_id}
    )
    assert response.status_code == 302
    assert state_of(engine, event_id) == "received"
    assert state_of(engine, other) == "dead"
    page = client.get("/operator").get_data(as_text=True)
    assert f'data-event-id="{event_id}"' not in page and f'data-event-id="{other}"' in page


def test_redrive_without_the_csrf_token_is_refused(site) -> None:
    client, world, engine = site
    event_id = dead_event(engine)
    sign_in(client, world.tokens["operator"])
    assert client.post("/operator/events/redrive", data={"event_id": event_id}).status_code == 400
    assert state_of(engine, event_id) == "dead"


def drift(engine, at: datetime, subject: str, estimate: int, charged: int, **extra) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.drift.record(
            at,
            kind=extra.pop("kind", "estimate"),
            subject=subject,
            cause=extra.pop("cause", "3 min between estimate and charge"),
            estimate_amount=estimate,
            charged_amount=charged,
            currency="usd",
            **extra,
        )
        uow.commit()


def test_the_reconciliation_page_charts_estimate_drift_and_lists_runs(site) -> None:
    client, world, engine = site
    first, second = NOW - timedelta(hours=1), NOW
    drift(engine, first, "upg_1", 90486, 90480)
    drift(
        engine,
        first + timedelta(seconds=2),
        "sub_1",
        0,
        0,
        kind="stripe_state",
        cause="seats differ",
        repaired=True,
    )
    drift(engine, second, "upg_2", 1000, 1012)
    sign_in(client, world.tokens["operator"])
    page = client.get("/operator/reconciliation").get_data(as_text=True)
    assert "<svg" in page and "<polyline" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "no inline script"
    assert page.count('class="drift-point"') == 2
    assert page.count('data-run="') == 2
    assert "seats differ" in page and "sub_1" in page


def _redrive_form(page: str, event_id: str) -> tuple[str, dict[str, str]]:
    """The Redrive form of the row of `event_id`, as the browser would send it."""
    row = page.split(f'data-event-id="{event_id}"', 1)[1].split("</tr>", 1)[0]
    found = re.search(r'<form method="post" action="([^"]+)"', row)
    assert found, row
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', row))
    return found.group(1).replace("&amp;", "&"), fields


@pytest.mark.parametrize("event_id", ["evt_a/b", "evt_../x", "evt_a%2Fb", "evt_a?b#c"])
def test_an_event_whose_id_holds_url_characters_is_redriven_from_the_page(
    site, event_id: str
) -> None:
    client, world, engine = site
    dead_event(engine, event_id)
    sign_in(client, world.tokens["operator"])
    action, fields = _redrive_form(client.get("/operator").get_data(as_text=True), event_id)
    response = client.post(action, data=fields)
    assert response.status_code == 302
    assert state_of(engine, event_id) == "received"
