"""The upgrade form without JavaScript: post → redirect → page, inputs kept; a stale
estimate is replaced by a fresh one of the same choice."""

from __future__ import annotations

from tests.unit.api.test_pages import csrf, sign_in
from tests.unit.api.test_pages_tiers import site  # noqa: F401  (the fixture)


def form_of(client, world) -> str:
    return client.get(f"/orgs/{world.org_id}/upgrade/node_locked").get_data(as_text=True)


def test_pay_without_an_estimate_shows_the_estimate_on_the_form(site) -> None:  # noqa: F811
    client, world = site
    sign_in(client, world.tokens["owner"])
    form = form_of(client, world)
    assert '<button type="submit" id="pay">Show the estimate</button>' in form
    posted = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/pay",
        data={"seats": "1", "interval": "year", "tier": "professional", "csrf_token": csrf(form),
              "estimate_id": "", "idempotency_key": "k1"},
    )  # fmt: skip
    assert posted.status_code == 302 and "?estimate=est_" in posted.headers["Location"]
    shown = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert '<span class="amount" id="amount">1,877.47 USD</span>' in shown
    assert 'name="tier" value="professional" checked' in shown
    assert 'name="interval" value="year" checked' in shown
    assert '<button type="submit" id="pay">Pay</button>' in shown
    estimate_id = shown.split('name="estimate_id" value="')[1].split('"')[0]
    paid = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/pay",
        data={"estimate_id": estimate_id, "idempotency_key": "k1", "csrf_token": csrf(shown)},
    )
    assert "/upgrades/upg_" in paid.headers["Location"]


def test_a_refused_choice_keeps_the_inputs_and_says_why(site) -> None:  # noqa: F811
    client, world = site
    sign_in(client, world.tokens["owner"])
    form = form_of(client, world)
    posted = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/pay",
        data={"seats": "2", "interval": "month", "discount_code": "NOPE", "tier": "standard",
              "csrf_token": csrf(form), "estimate_id": ""},
    )  # fmt: skip
    page = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert "no discount code &#39;NOPE&#39;" in page
    assert 'value="NOPE"' in page and 'name="interval" value="month" checked' in page
    assert 'value="2" required' in page


def test_a_stale_estimate_is_replaced_by_a_fresh_one_with_the_same_inputs(site) -> None:  # noqa: F811
    client, world = site
    app_deps = client.application.extensions["seatflow"].deps
    sign_in(client, world.tokens["owner"])
    form = form_of(client, world)
    first = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/pay",
        data={"seats": "3", "interval": "year", "tier": "professional", "csrf_token": csrf(form),
              "estimate_id": ""},
    )  # fmt: skip
    stale_id = first.headers["Location"].split("estimate=")[1]
    app_deps.clock.advance(hours=1)  # past ESTIMATE_TTL_SECONDS
    refused = client.post(
        f"/orgs/{world.org_id}/upgrade/node_locked/pay",
        data={"estimate_id": stale_id, "idempotency_key": "k2", "csrf_token": csrf(form)},
    )
    fresh_id = refused.headers["Location"].split("estimate=")[1]
    assert fresh_id != stale_id
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "The estimate expired: here is a fresh one." in page
    assert 'value="3"' in page and 'name="tier" value="professional" checked' in page
    assert f'name="estimate_id" value="{fresh_id}"' in page
