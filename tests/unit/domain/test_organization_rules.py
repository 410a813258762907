"""The Organization aggregate's rules, in plain Python: who may upgrade, what an upgrade may
change, what a paid upgrade, a Stripe snapshot and a paid cycle do to a subscription."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.catalog import Catalog, CatalogPrice
from domain.errors import (
    NoLicenseBought,
    NothingToChange,
    NotOwnerOrAdmin,
    OnlyMonthlyToAnnual,
    PriceNotInCatalog,
    SeatsCannotDecrease,
    SubscriptionNotUpgradable,
    SubscriptionPeriodEnded,
    TierCannotDecrease,
    UnsupportedInterval,
)
from domain.events import SubscriptionRenewed, SubscriptionSynced, UpgradeApplied
from domain.model import (
    Interval,
    LicenseType,
    Member,
    Organization,
    Role,
    Subscription,
    SubscriptionSnapshot,
    SyncOutcome,
    offline_allowed,
)
from domain.upgrades import Upgrade

START = datetime(2022, 1, 1, tzinfo=UTC)
MONTH_END = datetime(2022, 2, 1, tzinfo=UTC)
YEAR_END = datetime(2023, 1, 1, tzinfo=UTC)
NOW = datetime(2022, 1, 11, tzinfo=UTC)
NL, FL = LicenseType.NODE_LOCKED.value, LicenseType.FLOATING.value


def price(tier: str = "standard", rank: int = 1, interval: str = "month") -> CatalogPrice:
    return CatalogPrice(NL, interval, 10000 * rank, "usd", f"price_{tier}_{interval}", tier, rank)


CATALOG = Catalog(
    [
        price(),
        price(interval="year"),
        price("professional", 2),
        price("professional", 2, "year"),
        price("enterprise", 3),
    ]
)


def member(role: str = Role.OWNER) -> Member:
    return Member(id=f"mem_{role}", organization_id="org_1", email=f"{role}@x", role=role)


def subscription(
    license_type: str = NL,
    seats: int = 2,
    interval: str = "month",
    status: str = "active",
    end: datetime = MONTH_END,
    tier: str = "standard",
    version: int = 100,
) -> Subscription:
    return Subscription(
        license_type=license_type,
        seats=seats,
        interval=interval,
        status=status,
        current_period_start=START,
        current_period_end=end,
        stripe_subscription_id=f"sub_{license_type}",
        stripe_item_id=f"si_{license_type}",
        stripe_price_id=f"price_{tier}_{interval}",
        stripe_version=version,
        tier=tier,
    )


def organization(*subscriptions: Subscription) -> Organization:
    return Organization(
        id="org_1", name="Acme", stripe_customer_id="cus_1", subscriptions=[*subscriptions]
    )


def check(
    org: Organization,
    seats: int = 2,
    interval: str = "month",
    tier: str | None = None,
    by: Member | None = None,
    license_type: str = NL,
    now: datetime = NOW,
) -> Subscription:
    return org.check_upgrade(by or member(), license_type, seats, interval, now, tier, CATALOG)


def upgrade(seats: int = 2, interval: str = "month", tier: str = "standard", **kw: str) -> Upgrade:
    return Upgrade(
        id="upg_1",
        organization_id="org_1",
        license_type=kw.get("license_type", NL),
        estimate_id="est_1",
        from_seats=2,
        from_interval="month",
        seats=seats,
        interval=interval,
        currency="usd",
        estimate_amount=100,
        state="paid",
        created_at=NOW,
        updated_at=NOW,
        tier=tier,
    )


def snapshot(
    seats: int = 2,
    interval: Interval = Interval.MONTH,
    status: str = "active",
    version: int = 200,
    tier: str = "standard",
    license_type: str = NL,
) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        stripe_subscription_id=f"sub_{license_type}",
        stripe_item_id=f"si_{license_type}",
        stripe_price_id=f"price_{tier}_{interval.value}",
        license_type=license_type,
        seats=seats,
        interval=interval,
        status=status,
        current_period_start=START,
        current_period_end=MONTH_END if interval is Interval.MONTH else YEAR_END,
        version=version,
        tier=tier,
    )


# -- who may upgrade -----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_an_owner_or_an_admin_may_upgrade(role: Role) -> None:
    org = organization(subscription())
    assert check(org, seats=3, by=member(role)) is org.subscriptions[0]


@pytest.mark.parametrize("role", [Role.MEMBER, Role.OPERATOR])
def test_a_member_or_an_operator_may_not_upgrade(role: Role) -> None:
    with pytest.raises(NotOwnerOrAdmin):
        check(organization(subscription()), seats=3, by=member(role))


def test_a_removed_owner_may_no_longer_upgrade() -> None:
    owner = member(Role.OWNER)
    owner.remove(NOW)
    with pytest.raises(NotOwnerOrAdmin):
        check(organization(subscription()), seats=3, by=owner)


def test_the_role_is_checked_before_any_other_rule() -> None:
    with pytest.raises(NotOwnerOrAdmin):  # no license bought either
        check(organization(), seats=3, by=member(Role.MEMBER))


# -- what an upgrade may change ------------------------------------------------------------


def test_no_license_of_the_type_bought_is_refused() -> None:
    with pytest.raises(NoLicenseBought):
        check(organization(subscription(FL)), seats=3)


def test_a_subscription_without_seats_counts_as_no_license_bought() -> None:
    with pytest.raises(NoLicenseBought):
        check(organization(subscription(seats=0)), seats=3)


@pytest.mark.parametrize("status", ["canceled", "past_due", "incomplete", "unpaid"])
def test_only_an_active_or_trialing_subscription_is_upgradable(status: str) -> None:
    with pytest.raises(SubscriptionNotUpgradable):
        check(organization(subscription(status=status)), seats=3)


def test_a_trialing_subscription_is_upgradable() -> None:
    org = organization(subscription(status="trialing"))
    assert check(org, seats=3).seats == 2


def test_no_upgrade_once_the_period_has_ended() -> None:
    org = organization(subscription())
    with pytest.raises(SubscriptionPeriodEnded):
        check(org, seats=3, now=MONTH_END)


def test_the_seats_are_never_fewer_than_today() -> None:
    with pytest.raises(SeatsCannotDecrease):
        check(organization(subscription(seats=5)), seats=4)


def test_more_seats_on_the_same_cycle_are_an_upgrade() -> None:
    assert check(organization(subscription(seats=5)), seats=6).seats == 5


def test_monthly_may_become_annual() -> None:
    assert check(organization(subscription()), interval="year").interval == "month"


def test_annual_never_becomes_monthly() -> None:
    org = organization(subscription(interval="year", end=YEAR_END))
    with pytest.raises(OnlyMonthlyToAnnual):
        check(org, seats=3, interval="month")


def test_a_higher_tier_is_an_upgrade() -> None:
    assert check(organization(subscription()), tier="professional").tier == "standard"


@pytest.mark.parametrize("lower", ["standard", "professional"])
def test_a_tier_never_goes_down(lower: str) -> None:
    org = organization(subscription(tier="enterprise"))
    with pytest.raises(TierCannotDecrease):
        check(org, seats=3, tier=lower)


def test_a_tier_the_catalog_does_not_sell_is_refused() -> None:
    with pytest.raises(PriceNotInCatalog):
        check(organization(subscription()), tier="platinum")


def test_another_tier_without_a_catalog_to_rank_it_is_refused() -> None:
    org = organization(subscription())
    with pytest.raises(TierCannotDecrease):
        org.check_upgrade(member(), NL, 2, "month", NOW, tier="professional", catalog=None)


def test_no_tier_given_keeps_todays_tier() -> None:
    org = organization(subscription(tier="professional"))
    assert check(org, seats=3, tier=None).tier == "professional"


def test_something_must_change() -> None:
    with pytest.raises(NothingToChange):
        check(organization(subscription(tier="professional")), tier="professional")


def test_an_upgrade_is_checked_against_its_own_license_type_only() -> None:
    # one license type per upgrade: the floating subscription's rules do not apply to it
    floating = subscription(FL, seats=9, interval="year", end=YEAR_END)
    org = organization(floating, subscription(NL, seats=2))
    assert check(org, seats=3) is org.subscriptions[1]
    assert check(org, seats=10, interval="year", license_type=FL) is floating


# -- a paid upgrade ------------------------------------------------------------------------


def test_a_paid_seat_upgrade_changes_the_seats_and_keeps_the_cycle() -> None:
    org = organization(subscription())
    sub = org.apply_upgrade(upgrade(seats=4), price(), version=150, now=NOW)
    assert (sub.seats, sub.interval, sub.current_period_end) == (4, "month", MONTH_END)


def test_a_paid_monthly_to_annual_upgrade_runs_a_year_from_the_cycle_start() -> None:
    org = organization(subscription())
    sub = org.apply_upgrade(upgrade(interval="year"), price(interval="year"), 150, NOW)
    assert (sub.interval, sub.current_period_start, sub.current_period_end) == (
        "year",
        START,
        YEAR_END,
    )
    assert sub.stripe_price_id == "price_standard_year"


def test_in_trial_a_monthly_to_annual_upgrade_keeps_the_trials_end() -> None:
    org = organization(subscription(status="trialing"))
    sub = org.apply_upgrade(upgrade(interval="year"), price(interval="year"), 150, NOW)
    assert (sub.interval, sub.current_period_end) == ("year", MONTH_END)


def test_a_paid_tier_upgrade_takes_the_prices_tier() -> None:
    org = organization(subscription())
    sub = org.apply_upgrade(upgrade(tier="professional"), price("professional", 2), 150, NOW)
    assert (sub.tier, sub.stripe_price_id) == ("professional", "price_professional_month")


def test_a_paid_upgrade_is_written_in_the_ledger_and_recorded_as_an_event() -> None:
    org = organization(subscription())
    org.apply_upgrade(upgrade(seats=4, interval="year"), price(interval="year"), 150, NOW)
    [entry] = org.ledger
    assert (entry.license_type, entry.seats, entry.interval) == (NL, 4, "year")
    assert (entry.cause, entry.reference, entry.recorded_at) == ("upgrade", "upg_1", NOW)
    assert org.collect_events() == [UpgradeApplied("org_1", NL, "upgrade:upg_1", NOW)]


def test_a_paid_upgrade_is_never_undone_by_an_older_stripe_version() -> None:
    org = organization(subscription(version=300))
    assert org.apply_upgrade(upgrade(seats=4), price(), version=150, now=NOW).stripe_version == 300
    assert org.apply_upgrade(upgrade(seats=5), price(), version=400, now=NOW).stripe_version == 400
    sync = org.sync_subscription(snapshot(seats=2, version=399))
    assert sync.outcome is SyncOutcome.SKIPPED_STALE and org.subscriptions[0].seats == 5


def test_a_paid_upgrade_changes_only_its_own_license_type() -> None:
    floating = subscription(FL, seats=9)
    org = organization(floating, subscription(NL))
    org.apply_upgrade(upgrade(seats=4, interval="year"), price(interval="year"), 150, NOW)
    assert (floating.seats, floating.interval, floating.current_period_end) == (
        9,
        "month",
        MONTH_END,
    )


def test_a_paid_upgrade_without_a_subscription_is_refused() -> None:
    with pytest.raises(NoLicenseBought):
        organization(subscription(FL)).apply_upgrade(upgrade(), price(), 150, NOW)


# -- Stripe's snapshot ---------------------------------------------------------------------


def test_a_first_snapshot_creates_the_subscription_and_its_first_license() -> None:
    org = organization()
    result = org.sync_subscription(snapshot(seats=3), reference="evt_1")
    [sub] = org.subscriptions
    assert result.outcome is SyncOutcome.APPLIED
    assert (sub.seats, sub.interval, sub.stripe_subscription_id, sub.stripe_version) == (
        3,
        "month",
        f"sub_{NL}",
        200,
    )
    assert [(e.cause, e.reference, e.seats) for e in org.ledger] == [
        ("stripe_sync", f"sub_{NL}", 3)
    ]
    assert org.collect_events() == [SubscriptionSynced("org_1", NL, "created:evt_1")]


def test_an_older_snapshot_changes_nothing() -> None:
    org = organization(subscription(seats=5, version=300))
    assert (
        org.sync_subscription(snapshot(seats=1, version=299)).outcome is SyncOutcome.SKIPPED_STALE
    )
    assert (org.subscriptions[0].seats, org.ledger, org.events) == (5, [], [])


def test_a_snapshot_of_the_same_version_is_taken() -> None:
    org = organization(subscription(seats=5, version=300))
    assert org.sync_subscription(snapshot(seats=6, version=300)).outcome is SyncOutcome.APPLIED
    assert org.subscriptions[0].seats == 6


@pytest.mark.parametrize(
    "changed",
    [snapshot(seats=3), snapshot(interval=Interval.YEAR), snapshot(tier="professional")],
    ids=["seats", "interval", "tier"],
)
def test_a_snapshot_that_changes_seats_cycle_or_tier_issues_a_license(
    changed: SubscriptionSnapshot,
) -> None:
    org = organization(subscription())
    assert org.sync_subscription(changed, reference="evt_2").outcome is SyncOutcome.APPLIED
    assert org.collect_events() == [SubscriptionSynced("org_1", NL, "stripe_sync:evt_2")]
    assert [e.cause for e in org.ledger] == ["stripe_sync"]


def test_a_snapshot_that_changes_only_the_tier_takes_the_tier() -> None:
    org = organization(subscription())
    org.sync_subscription(snapshot(tier="professional"))
    assert org.subscriptions[0].tier == "professional"
    assert org.ledger[-1].seats == 2


def test_a_snapshot_that_changes_nothing_the_license_shows_issues_nothing() -> None:
    org = organization(subscription())
    result = org.sync_subscription(snapshot(version=500))  # only newer
    assert result.outcome is SyncOutcome.APPLIED
    assert (org.events, org.ledger, org.subscriptions[0].stripe_version) == ([], [], 500)


def test_the_end_of_a_trial_issues_a_license() -> None:
    org = organization(subscription(status="trialing"))
    org.sync_subscription(snapshot(), reference="evt_3")
    assert org.collect_events() == [SubscriptionSynced("org_1", NL, "trial_converted:evt_3")]


def test_a_cancellation_issues_a_license_once() -> None:
    org = organization(subscription())
    org.sync_subscription(snapshot(status="canceled"))
    again = org.sync_subscription(snapshot(status="canceled", version=300))
    assert again.outcome is SyncOutcome.APPLIED  # taken, and no second license
    assert org.collect_events() == [SubscriptionSynced("org_1", NL, "canceled:200")]


def test_without_a_reference_the_cause_names_the_snapshots_version() -> None:
    org = organization(subscription())
    org.sync_subscription(snapshot(seats=3, version=777))
    assert org.collect_events() == [SubscriptionSynced("org_1", NL, "stripe_sync:777")]


def test_a_snapshot_changes_only_its_own_subscription() -> None:
    floating = subscription(FL, seats=9)
    org = organization(floating, subscription(NL))
    org.sync_subscription(snapshot(seats=4))
    assert (floating.seats, org.subscriptions[1].seats) == (9, 4)


# -- a paid cycle --------------------------------------------------------------------------


def test_a_paid_cycle_moves_the_period_on() -> None:
    org = organization(subscription())
    sub = org.subscriptions[0]
    org.renew(sub, MONTH_END, datetime(2022, 3, 1, tzinfo=UTC), "in_1")
    assert (sub.current_period_start, sub.current_period_end) == (
        MONTH_END,
        datetime(2022, 3, 1, tzinfo=UTC),
    )
    assert org.collect_events() == [SubscriptionRenewed("org_1", NL, "renewal:in_1")]


def test_a_paid_cycle_never_moves_the_period_back() -> None:
    org = organization(subscription())
    sub = org.subscriptions[0]
    org.renew(sub, datetime(2021, 12, 1, tzinfo=UTC), START, "in_old")
    assert (sub.current_period_start, sub.current_period_end) == (START, MONTH_END)
    org.renew(sub, None, None, "in_no_period")
    assert sub.current_period_end == MONTH_END
    assert len(org.collect_events()) == 2  # the license follows each paid invoice


def test_collected_events_are_handed_over_once() -> None:
    org = organization(subscription())
    org.renew(org.subscriptions[0], None, None, "in_1")
    assert len(org.collect_events()) == 1
    assert org.collect_events() == []


# -- offline licenses and cycles -----------------------------------------------------------


@pytest.mark.parametrize(
    ("license_type", "interval", "allowed"),
    [(NL, "year", True), (NL, "month", False), (FL, "year", False), (FL, "month", False)],
)
def test_offline_licenses_only_for_node_locked_annual(
    license_type: str, interval: str, allowed: bool
) -> None:
    assert offline_allowed(license_type, interval) is allowed
    assert subscription(license_type, interval=interval).offline_allowed is allowed


@pytest.mark.parametrize("value", ["week", "quarter", "", "Month"])
def test_only_monthly_and_yearly_cycles_are_sold(value: str) -> None:
    with pytest.raises(UnsupportedInterval):
        Interval.parse(value)
    assert Interval.parse("year") is Interval.YEAR
