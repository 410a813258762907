"""Changes scheduled for the renewal, in plain Python: who may schedule one, what it may
change (only down: fewer seats, annual → monthly, a lower tier; never below the seats active
offline licenses hold), what it costs (nothing now; the next invoice bills the new terms),
and what applying it does to the subscription (once, with its ledger entry and event)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.catalog import Catalog, CatalogPrice
from domain.errors import (
    NoLicenseBought,
    NothingToChange,
    NotOwnerOrAdmin,
    PriceNotInCatalog,
    SubscriptionNotUpgradable,
    SubscriptionPeriodEnded,
)
from domain.model import Member, Organization, Role, Subscription
from domain.renewal import (
    PENDING,
    ChangeAlreadyScheduled,
    ChangeState,
    NotADowngrade,
    ScheduledChange,
    ScheduledChangeApplied,
    SeatsBelowOfflineLicenses,
    apply_change,
    check_change,
)

START = datetime(2022, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2023, 1, 1, tzinfo=UTC)
NOW = datetime(2022, 1, 11, tzinfo=UTC)
NL = "node_locked"


def price(tier: str = "standard", rank: int = 1, interval: str = "month") -> CatalogPrice:
    unit = (10000 if interval == "month" else 100000) * rank
    return CatalogPrice(NL, interval, unit, "usd", f"price_{tier}_{interval}", tier, rank)


CATALOG = Catalog(
    [
        price(),
        price(interval="year"),
        price("professional", 2),
        price("professional", 2, "year"),
    ]
)


def member(role: str = Role.OWNER) -> Member:
    return Member(id=f"mem_{role}", organization_id="org_1", email=f"{role}@x", role=role)


def org(
    seats: int = 5, interval: str = "year", tier: str = "professional", status: str = "active"
) -> Organization:
    sub = Subscription(
        license_type=NL,
        seats=seats,
        interval=interval,
        status=status,
        current_period_start=START,
        current_period_end=YEAR_END,
        stripe_subscription_id="sub_1",
        stripe_item_id="si_1",
        stripe_price_id=f"price_{tier}_{interval}",
        tier=tier,
    )
    return Organization("org_1", "Acme", "cus_1", [sub])


def check(o: Organization, seats: int, interval: str, tier: str | None = None, **kw):
    kw = {"member": member(), "offline_active": 0, "pending": None, "now": NOW} | kw
    return check_change(
        o,
        kw["member"],
        NL,
        seats,
        interval,
        tier,
        kw["now"],
        CATALOG,
        offline_active=kw["offline_active"],
        pending=kw["pending"],
    )


def test_fewer_seats_annual_to_monthly_and_a_lower_tier_together_are_one_change() -> None:
    sub, new_price = check(org(), 3, "month", "standard")
    assert sub.seats == 5
    assert (new_price.stripe_price_id, new_price.unit_amount * 3) == ("price_standard_month", 30000)


@pytest.mark.parametrize(
    ("seats", "interval", "tier"),
    [(3, "year", None), (5, "month", None), (5, "year", "standard"), (1, "month", "standard")],
    ids=["fewer seats", "annual to monthly", "lower tier", "all three"],
)
def test_each_way_down_is_a_change(seats: int, interval: str, tier: str | None) -> None:
    _, new_price = check(org(), seats, interval, tier)
    assert new_price.stripe_price_id == f"price_{tier or 'professional'}_{interval}"


def test_more_seats_or_nothing_changed_is_no_change_at_renewal() -> None:
    with pytest.raises(NotADowngrade, match="more seats"):
        check(org(), 6, "year")
    with pytest.raises(NothingToChange):
        check(org(), 5, "year")
    with pytest.raises(NothingToChange):
        check(org(), 5, "year", "professional")


def test_monthly_to_annual_or_a_higher_tier_is_an_upgrade_paid_now() -> None:
    with pytest.raises(NotADowngrade, match="annual"):
        check(org(interval="month", tier="standard"), 3, "year")
    with pytest.raises(NotADowngrade, match="tier"):
        check(org(tier="standard"), 3, "year", "professional")
    with pytest.raises(PriceNotInCatalog):
        check(org(), 3, "year", "bronze")


def test_only_the_owner_or_an_admin_schedules() -> None:
    check(org(), 3, "year", member=member(Role.ADMIN))
    with pytest.raises(NotOwnerOrAdmin, match="schedule"):
        check(org(), 3, "year", member=member(Role.MEMBER))
    removed = member(Role.ADMIN)
    removed.remove(NOW)
    with pytest.raises(NotOwnerOrAdmin):
        check(org(), 3, "year", member=removed)


def test_never_below_the_seats_active_offline_licenses_hold() -> None:
    check(org(), 3, "year", offline_active=3)
    with pytest.raises(SeatsBelowOfflineLicenses) as raised:
        check(org(), 2, "year", offline_active=3)
    assert "3 active offline licenses hold 3 seats" in raised.value.message
    assert raised.value.code == "seats_below_offline_licenses"


def test_a_subscription_without_a_license_ended_or_past_its_period_is_refused() -> None:
    with pytest.raises(NoLicenseBought):
        check(Organization("org_1", "Acme"), 1, "year")
    with pytest.raises(SubscriptionNotUpgradable):
        check(org(status="canceled"), 3, "year")
    with pytest.raises(SubscriptionPeriodEnded):
        check(org(), 3, "year", now=YEAR_END)


def test_one_pending_change_per_subscription() -> None:
    pending = change()
    with pytest.raises(ChangeAlreadyScheduled):
        check(org(), 3, "year", pending=pending)


def change(**kw) -> ScheduledChange:
    values = {
        "id": "chg_1",
        "organization_id": "org_1",
        "license_type": NL,
        "stripe_subscription_id": "sub_1",
        "from_seats": 5,
        "from_interval": "year",
        "from_tier": "professional",
        "seats": 3,
        "interval": "month",
        "tier": "standard",
        "stripe_price_id": "price_standard_month",
        "currency": "usd",
        "next_invoice_amount": 30000,
        "effective_at": YEAR_END,
        "state": ChangeState.SCHEDULED.value,
        "created_at": NOW,
        "updated_at": NOW,
        "requested_by": "owner@x",
    }
    return ScheduledChange(**(values | kw))


def test_applying_changes_the_subscription_once_with_its_ledger_entry_and_event() -> None:
    o, pending = org(), change()
    feb_1 = datetime(2023, 2, 1, tzinfo=UTC)
    sub = o.subscriptions[0]
    assert apply_change(o, pending, start=YEAR_END, end=feb_1, version=1672531200, now=YEAR_END)
    assert (sub.seats, sub.interval, sub.tier, sub.stripe_price_id) == (
        3,
        "month",
        "standard",
        "price_standard_month",
    )
    assert (sub.current_period_start, sub.current_period_end) == (YEAR_END, feb_1)
    assert sub.stripe_version == 1672531200
    assert pending.state == ChangeState.APPLIED and pending.applied_at == YEAR_END
    [entry] = o.ledger
    assert (entry.seats, entry.interval, entry.cause, entry.reference) == (
        3,
        "month",
        "scheduled_change",
        "chg_1",
    )
    [event] = o.collect_events()
    assert isinstance(event, ScheduledChangeApplied)
    assert event.cause == "scheduled_change:chg_1"

    assert not apply_change(o, pending, start=YEAR_END, end=feb_1, version=1, now=YEAR_END)
    assert (o.ledger, o.events) == ([entry], [])


def test_applying_keeps_a_newer_period_and_the_newest_version() -> None:
    o, pending = org(), change()
    sub = o.subscriptions[0]
    sub.stripe_version = 1672531300
    apply_change(o, pending, start=None, end=None, version=1672531200, now=YEAR_END)
    assert (sub.current_period_end, sub.stripe_version) == (YEAR_END, 1672531300)


def test_what_is_pending_and_what_ended() -> None:
    assert {s.value for s in PENDING} == {"scheduling", "scheduled"}
    done = change(state=ChangeState.CANCELED.value)
    assert not done.pending and change().pending
    moved = change()
    assert moved.move(ChangeState.RELEASED, NOW, "released in Stripe's dashboard")
    assert not moved.move(ChangeState.RELEASED, NOW, "again")
    assert moved.cause == "released in Stripe's dashboard"
