"""Events of another Stripe mode or Connect account are stored `ignored`, with the reason,
and never enqueued; the mode comes from the API key, the account from STRIPE_ACCOUNT."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from cli import samples
from config.settings import Settings
from inbox.table import inbox
from tests.conftest import SECRET
from webhooks import create_app

URL = "/webhooks/stripe"


def deliver(settings: Settings, **fields: Any) -> dict[str, Any]:
    app = create_app(settings)
    obj = samples.subscription_object(customer="cus_o")
    event = {**samples.event("customer.subscription.updated", obj, event_id="evt_o"), **fields}
    body, headers = samples.signed(event, SECRET)
    assert app.test_client().post(URL, data=body, headers=headers).status_code == 200
    with app.extensions["seatflow"].engine.connect() as conn:
        [row] = conn.execute(select(inbox)).mappings().all()
    return dict(row)


def test_a_live_mode_event_on_a_test_key_is_stored_ignored_with_the_reason(
    sqlite_settings: Settings,
) -> None:
    row = deliver(sqlite_settings.with_overrides(stripe_api_key="sk_test_x"), livemode=True)
    assert row["state"] == "ignored"
    assert "live mode" in row["last_error"]


def test_a_test_mode_event_on_a_live_key_is_stored_ignored(sqlite_settings: Settings) -> None:
    row = deliver(sqlite_settings.with_overrides(stripe_api_key="rk_live_x"), livemode=False)
    assert (row["state"], "test mode" in row["last_error"]) == ("ignored", True)


def test_an_event_of_another_connect_account_is_stored_ignored(sqlite_settings: Settings) -> None:
    row = deliver(sqlite_settings, account="acct_other")
    assert row["state"] == "ignored"
    assert "acct_other" in row["last_error"]


@pytest.mark.parametrize(
    "configured, sent, state",
    [("acct_mine", "acct_mine", "received"), ("acct_mine", None, "ignored")],
)
def test_with_stripe_account_only_that_accounts_events_are_applied(
    sqlite_settings: Settings, configured: str, sent: str | None, state: str
) -> None:
    settings = sqlite_settings.with_overrides(stripe_account=configured)
    row = deliver(settings, **({"account": sent} if sent else {}))
    assert row["state"] == state
