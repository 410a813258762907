"""`seatflow change`: schedule a change for the renewal, list it pending with its date and the
next invoice's amount, cancel it; a subprocess against SQLite and the stateful fake Stripe."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from adapters.stripe_parsing import subscription_snapshot
from adapters.unit_of_work import SqlUnitOfWork
from config.database import make_engine
from services import admin
from tests.builders import CATALOG
from tests.conftest import env_for
from tests.money_world import stripe_prices
from tests.stripe_model import StripeServer, StripeState, add_interval
from tests.unit.cli.test_commands import seatflow

pytestmark = pytest.mark.slow  # every test here starts a process


def test_an_owner_schedules_lists_and_cancels_a_change_from_the_command_line(
    sqlite_settings,
) -> None:
    state = StripeState()
    stripe_prices(state)
    customer = state.create_customer("succeeds")["id"]
    start = state.now() - 10 * 86400
    sub = state.create_subscription(
        customer, "price_node_locked_year", quantity=5, period_start=start
    )
    engine = make_engine(sqlite_settings)
    uow = SqlUnitOfWork(engine)
    org = admin.create_organization(uow, "Acme", customer=customer)
    admin.import_catalog(uow, CATALOG)
    owner = admin.add_member(uow, org["id"], "owner@acme.example", "owner")["id"]
    member = admin.add_member(uow, org["id"], "ana@acme.example", "member")["id"]
    with uow:
        found = uow.organizations.get(org["id"], lock=True)
        assert found is not None
        snapshot = subscription_snapshot(sub, state.now())
        found.sync_subscription(replace(snapshot, license_type="node_locked"))
        found.collect_events()
        uow.commit()
    renewal_day = datetime.fromtimestamp(add_interval(start, "year"), UTC).date().isoformat()

    with StripeServer(state) as server:
        env = env_for(
            sqlite_settings.with_overrides(
                broker_url=f"sqla+sqlite:///{sqlite_settings.data_dir / 'broker.sqlite'}"
            ),
            STRIPE_API_BASE=server.url,
            STRIPE_API_KEY="sk_test_cli",
        )
        args = ["--org", org["id"], "--license-type", "node_locked", "--seats", "3"]
        refused = seatflow("change", "schedule", *args, "--member", member, env=env)
        assert refused.returncode == 1
        assert "only the organization's owner or admins can schedule" in refused.stderr
        done = seatflow(
            "change", "schedule", *args, "--interval", "month", "--member", owner, env=env
        )
        assert done.returncode == 0, done.stderr
        change = json.loads(done.stdout)
        assert (change["state"], change["at"], change["next_invoice"]) == (
            "scheduled",
            renewal_day,
            "300.00 USD",
        )
        assert change["next_invoice_amount"] == 30000
        assert change["to"] == "3 seats, monthly, standard"
        assert [r.path for r in server.requests("POST")] == [
            "/v1/subscription_schedules",
            f"/v1/subscription_schedules/{state.get('subscription', sub['id'])['schedule']}",
        ]

        listed = json.loads(seatflow("change", "list", "--org", org["id"], env=env).stdout)
        assert [(c["id"], c["at"], c["next_invoice"]) for c in listed] == [
            (change["id"], renewal_day, "300.00 USD")
        ]

        canceled = seatflow(
            "change", "cancel", change["id"], "--org", org["id"], "--member", owner, env=env
        )
        assert canceled.returncode == 0, canceled.stderr
        assert json.loads(canceled.stdout)["state"] == "canceled"
        assert server.requests("POST", "/v1/subscription_schedules/*/release")
        assert json.loads(seatflow("change", "list", "--org", org["id"], env=env).stdout) == []
        every = seatflow("change", "list", "--org", org["id"], "--all", env=env)
        assert [c["state"] for c in json.loads(every.stdout)] == ["canceled"]
