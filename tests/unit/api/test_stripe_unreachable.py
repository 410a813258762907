"""Stripe cannot be reached (a placeholder key, the network): the customer reads a plain
sentence (nothing was charged; try again later) and may pay again; no exception text, no
*Update payment method* for an outage. The detail stays for operators (API, logs)."""

from __future__ import annotations

import logging
import re

import pytest

from adapters.stripe_errors import StripeUnavailable
from adapters.unit_of_work import SqlUnitOfWork
from domain.commands import RequestEstimate, SubmitUpgrade
from domain.ports import ChargeRejected
from services.upgrades import charge as upgrade_charge
from services.upgrades import request as upgrade_request
from tests.unit.api.test_pages import sign_in, site  # noqa: F401 (the fixture)

RAW = (
    "APIConnectionError: Unexpected error communicating with Stripe. "
    "HTTPSConnectionPool(host='api.stripe.com', port=443): NameResolutionError"
)


def _unreachable(**_: object) -> None:
    raise StripeUnavailable(RAW, "network")


def _bad_key(**_: object) -> None:
    raise ChargeRejected("authentication", "Invalid API Key provided: sk_test_****here")


def _charge_until_it_ends(client, world, charge) -> str:
    """Submit an upgrade and run its charge chain, as the worker would, until it stops."""
    app = client.application
    deps = app.extensions["seatflow"].deps
    deps.gateway.draft_invoice = charge
    uow = SqlUnitOfWork(app.extensions["seatflow"].engine)
    owner = world.owner["id"]
    cmd = RequestEstimate(world.org_id, owner, "node_locked", 2, "month")
    estimate = upgrade_request.request_estimate(cmd, uow, deps)
    upgrade, _ = upgrade_request.submit_upgrade(
        SubmitUpgrade(world.org_id, owner, estimate.id), uow, deps
    )
    waited = 0.0
    for _ in range(20):
        try:
            state = upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
        except upgrade_charge.RetryLater as later:
            waited += later.seconds
            deps.clock.advance(seconds=later.seconds)
            continue
        assert state == "payment_failed"
        assert waited <= 30, f"the customer waited {waited} s for the answer"
        return upgrade.id
    raise AssertionError("the charge chain never ended")


@pytest.mark.parametrize("charge", [_unreachable, _bad_key], ids=["network", "bad_key"])
def test_the_customer_reads_a_plain_sentence_and_may_pay_again(site, charge, caplog) -> None:  # noqa: F811
    client, world = site
    sign_in(client, world.tokens["owner"])
    with caplog.at_level(logging.INFO):
        upgrade_id = _charge_until_it_ends(client, world, charge)
    url = f"/orgs/{world.org_id}/upgrades/{upgrade_id}"
    page = client.get(url).get_data(as_text=True)
    failure = page.split('id="failure"', 1)[1].split("</div>", 1)[0]
    assert "Nothing was charged" in failure and "try again later" in failure
    for raw in ("APIConnectionError", "HTTPSConnectionPool", "Invalid API Key", "sk_test"):
        assert raw not in page, raw
    # The form is there for the page's script, hidden: another card does not help here.
    assert re.search(r'<form id="update-card"[^>]*\shidden>', failure)
    assert f'action="{url}/retry"' in page and ">Pay again<" in page
    shown = client.get(f"{url}.json").json  # what the page's script shows
    assert "Nothing was charged" in shown["failure"]["message"]
    assert shown["failure"]["kind"] != "card"
    for raw in ("APIConnectionError", "Invalid API Key"):
        assert raw not in str(shown), raw
    # Operators keep the detail: the org API and the log.
    api = client.get(
        f"/api/v1/organizations/{world.org_id}/upgrades/{upgrade_id}",
        headers={"Authorization": f"Bearer {world.tokens['owner']}"},
    ).json
    assert (
        "APIConnectionError" in api["failure_reason"] or "Invalid API Key" in api["failure_reason"]
    )
    assert any(
        "APIConnectionError" in str(getattr(r, "error", ""))
        or "Invalid API Key" in str(getattr(r, "error", ""))
        for r in caplog.records
    )


def test_a_declined_card_still_offers_to_update_the_payment_method(site) -> None:  # noqa: F811
    from tests.unit.api.test_pages import _failed_upgrade

    client, world = site
    sign_in(client, world.tokens["owner"])
    upgrade_id = _failed_upgrade(client, world, {"decline": "Your card was declined."})
    page = client.get(f"/orgs/{world.org_id}/upgrades/{upgrade_id}").get_data(as_text=True)
    failure = page.split('id="failure"', 1)[1].split("</div>", 1)[0]
    assert "Your card was declined." in failure and "Update payment method" in failure
    assert not re.search(r'<form id="update-card"[^>]*\shidden>', failure)


def test_while_the_charge_is_retried_the_page_says_nothing_was_charged_yet(site) -> None:  # noqa: F811
    client, world = site
    sign_in(client, world.tokens["owner"])
    app = client.application
    deps = app.extensions["seatflow"].deps
    deps.gateway.draft_invoice = _unreachable
    uow = SqlUnitOfWork(app.extensions["seatflow"].engine)
    owner = world.owner["id"]
    estimate = upgrade_request.request_estimate(
        RequestEstimate(world.org_id, owner, "node_locked", 2, "month"), uow, deps
    )
    upgrade, _ = upgrade_request.submit_upgrade(
        SubmitUpgrade(world.org_id, owner, estimate.id), uow, deps
    )
    url = f"/orgs/{world.org_id}/upgrades/{upgrade.id}"
    assert re.search(r'<p id="retrying"[^>]*hidden', client.get(url).get_data(as_text=True))
    with pytest.raises(upgrade_charge.RetryLater):
        upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    page = client.get(url).get_data(as_text=True)
    retrying = page.split('<p id="retrying"', 1)[1].split("</p>", 1)[0]
    assert "hidden" not in retrying.split(">", 1)[0]
    assert "Nothing has been charged" in retrying
    assert client.get(f"{url}.json").json["retrying"] is True
