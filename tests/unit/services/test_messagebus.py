"""What the aggregate records becomes exactly one new license version, in the same commit.

These run on the in-memory unit of work (tests/fakes.py): no database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.events import SubscriptionSynced
from domain.licenses import LicenseStatus, OfflineNotAllowed, OfflineSeatsExhausted
from domain.model import Interval, Member, Organization, SubscriptionSnapshot
from services import licenses, messagebus
from tests.fakes import FakeUnitOfWork, fake_deps

START = datetime(2022, 1, 1, tzinfo=UTC)


def snapshot(version: int, seats: int = 1, interval: str = "month", status: str = "active"):
    end = START + (timedelta(days=365) if interval == "year" else timedelta(days=31))
    return SubscriptionSnapshot(
        stripe_subscription_id="sub_1",
        stripe_item_id="si_1",
        stripe_price_id=f"price_node_locked_{interval}",
        license_type="node_locked",
        seats=seats,
        interval=Interval(interval),
        status=status,
        current_period_start=START,
        current_period_end=end,
        version=version,
    )


@pytest.fixture
def uow() -> FakeUnitOfWork:
    org = Organization(id="org_1", name="Acme", stripe_customer_id="cus_1")
    owner = Member(id="mem_1", organization_id="org_1", email="o@example.com", role="owner")
    return FakeUnitOfWork(organizations=[org], members=[owner])


def sync(uow: FakeUnitOfWork, snap: SubscriptionSnapshot, event_id: str) -> None:
    with uow:
        uow.organizations.locked("org_1").sync_subscription(snap, event_id)
        messagebus.commit(uow, fake_deps())


def test_a_new_subscription_is_recorded_and_gets_license_version_1(uow: FakeUnitOfWork) -> None:
    org = uow.organizations.locked("org_1")
    org.sync_subscription(snapshot(100), "evt_1")
    assert org.events == [SubscriptionSynced("org_1", "node_locked", "created:evt_1")]
    messagebus.commit(uow, fake_deps())
    assert org.events == []
    assert [(x.version, x.seats, x.cause) for x in uow.licenses.items] == [(1, 1, "created:evt_1")]
    assert uow.committed == 1


def test_each_change_supersedes_the_current_license_once(uow: FakeUnitOfWork) -> None:
    sync(uow, snapshot(100), "evt_1")
    sync(uow, snapshot(200, seats=3), "evt_2")
    sync(uow, snapshot(200, seats=3), "evt_2")  # the same event again: nothing changes
    versions = [(x.version, x.seats, x.status) for x in uow.licenses.items]
    assert versions == [(1, 1, LicenseStatus.SUPERSEDED), (2, 3, LicenseStatus.CURRENT)]


def test_a_canceled_subscription_revokes_its_license(uow: FakeUnitOfWork) -> None:
    sync(uow, snapshot(100), "evt_1")
    sync(uow, snapshot(200, status="canceled"), "evt_2")
    assert uow.licenses.items[-1].status == LicenseStatus.REVOKED


def test_a_commit_without_the_message_bus_is_refused(uow: FakeUnitOfWork) -> None:
    uow.organizations.locked("org_1").sync_subscription(snapshot(100), "evt_1")
    with pytest.raises(AssertionError, match="unhandled events"):
        uow.commit()


def test_offline_licenses_follow_the_rule_of_the_subscription(uow: FakeUnitOfWork) -> None:
    owner = uow.members.by_id["mem_1"]
    sync(uow, snapshot(100), "evt_1")
    with pytest.raises(OfflineNotAllowed):
        licenses.activate_offline(uow, fake_deps(), "org_1", owner, "node_locked", "agent-1")
    sync(uow, snapshot(200, interval="year"), "evt_2")
    first, created = licenses.activate_offline(
        uow, fake_deps(), "org_1", owner, "node_locked", "agent-1"
    )
    assert created and first.machine_id == "agent-1"
    with pytest.raises(OfflineSeatsExhausted):
        licenses.activate_offline(uow, fake_deps(), "org_1", owner, "node_locked", "agent-2")
