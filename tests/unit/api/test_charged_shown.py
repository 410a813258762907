"""Only what Stripe reported as paid is shown as charged: a declined, failed or canceled upgrade
shows its amount due, never a charged amount, in the history (page and API) and on its page."""

from __future__ import annotations

import re

import pytest

from adapters.unit_of_work import SqlUnitOfWork
from domain.commands import CancelUpgrade
from domain.ports import ChargeRejected
from services.upgrades import request as upgrade_request
from tests.unit.api.test_pages import _failed_upgrade, sign_in, site  # noqa: F401 (the fixture)

DUE = 6774  # 1 → 2 seats on January 11: 21 of 31 days of 100.00 USD


def _rejected(**_: object) -> None:
    raise ChargeRejected("invalid_request", "No such customer: 'cus_acme'")


def _canceled(client, world) -> str:
    upgrade_id = _failed_upgrade(client, world, {})  # charged: awaiting the payment
    app = client.application
    uow = SqlUnitOfWork(app.extensions["seatflow"].engine)
    cmd = CancelUpgrade(world.org_id, world.owner["id"], upgrade_id)
    upgrade_request.cancel_upgrade(cmd, uow, app.extensions["seatflow"].deps)
    return upgrade_id


CASES = {
    "declined": lambda client, world: _failed_upgrade(
        client, world, {"decline": "Your card was declined."}
    ),
    "stripe_error": lambda client, world: _failed_upgrade(
        client, world, {"draft_invoice": _rejected}
    ),
    "canceled": _canceled,
}


def _cell(page: str, upgrade_id: str, column: str) -> str:
    header = re.search(r"<thead>(.*?)</thead>", page, re.S)
    assert header
    names = re.findall(r"<th[^>]*>(.*?)</th>", header.group(1))
    row = page.split(f'data-upgrade-id="{upgrade_id}"', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return cells[names.index(column)].strip()


@pytest.mark.parametrize("case", CASES)
def test_an_upgrade_stripe_took_nothing_for_shows_no_charged_amount(site, case: str) -> None:  # noqa: F811
    client, world = site
    sign_in(client, world.tokens["owner"])
    upgrade_id = CASES[case](client, world)

    api = f"/api/v1/organizations/{world.org_id}/upgrades"
    bearer = {"Authorization": f"Bearer {world.tokens['owner']}"}
    [row] = client.get(api, headers=bearer).json["upgrades"]
    assert row["charged_amount"] is None
    assert (row["charged_amount"], row["paid_amount"], row["amount_due"]) == (None, None, DUE)
    shown = client.get(f"{api}/{upgrade_id}", headers=bearer).json
    assert (shown["charged_amount"], shown["amount_due"]) == (None, DUE)

    history = client.get(f"/orgs/{world.org_id}/history").get_data(as_text=True)
    assert _cell(history, upgrade_id, "Charged") == "—"
    assert _cell(history, upgrade_id, "Due") == "67.74 USD"

    page = client.get(f"/orgs/{world.org_id}/upgrades/{upgrade_id}").get_data(as_text=True)
    assert "charging 67.74" not in page
    assert "Amount due: 67.74 USD" in page and "Paid:" not in page
    assert "Nothing was paid." in page
