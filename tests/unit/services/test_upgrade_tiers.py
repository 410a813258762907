"""Upgrades to a higher tier of the same license type, on the fakes of the ports."""

from __future__ import annotations

import json

import pytest

from domain import errors
from domain.model import Member
from services import admin, stripe_events
from services import licenses as license_service
from services.upgrades import charge as upgrade_charge
from services.upgrades import payment as upgrade_payment
from tests.builders import store_event, subscription_event
from tests.unit.services.test_upgrade_payment import estimate, pay, submit, subscription

TIERS = [
    {
        "license_type": "node_locked",
        "tier": "professional",
        "rank": 2,
        "interval": "month",
        "unit_amount": 20000,
        "currency": "usd",
        "stripe_price_id": "price_node_locked_pro_month",
        "features": ["priority_support"],
    },
    {
        "license_type": "node_locked",
        "tier": "professional",
        "rank": 2,
        "interval": "year",
        "unit_amount": 200000,
        "currency": "usd",
        "stripe_price_id": "price_node_locked_pro_year",
        "features": ["priority_support"],
    },
    {
        "license_type": "node_locked",
        "tier": "enterprise",
        "rank": 3,
        "interval": "year",
        "unit_amount": 400000,
        "currency": "usd",
        "stripe_price_id": "price_node_locked_ent_year",
        "features": ["priority_support", "audit_log"],
    },
]


@pytest.fixture
def tiered(uow, world):
    admin.import_catalog(uow, TIERS)
    return world


def test_a_subscription_without_a_tier_is_standard(uow, tiered) -> None:
    assert subscription(uow, tiered).tier == "standard"


def test_the_seed_example_still_costs_90486_on_the_same_tier(uow, deps, tiered) -> None:
    assert estimate(uow, deps, tiered).amount == 90486


def test_a_tier_upgrade_is_priced_with_the_new_tier(uow, deps, tiered) -> None:
    # same rule, new price: 200000 × 355/365 − 10000 × 21/31 = 194520.55 − 6774.19 → 194521 − 6774
    e = estimate(uow, deps, tiered, tier="professional")
    assert (e.from_tier, e.tier, e.amount) == ("standard", "professional", 187747)
    # the same cycle and seats, only the tier: 20000 × 21/31 − 10000 × 21/31
    e = estimate(uow, deps, tiered, interval="month", tier="professional")
    assert e.amount == 13548 - 6774


def test_moving_to_a_lower_tier_is_a_named_error(uow, deps, tiered) -> None:
    upgrade, _ = submit(uow, deps, tiered, estimate(uow, deps, tiered, tier="professional").id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    pay(uow, deps, upgrade.id, 187747)
    with pytest.raises(errors.TierCannotDecrease):
        estimate(uow, deps, tiered, seats=2, tier="standard")


def test_an_unknown_tier_is_not_in_the_catalog(uow, deps, tiered) -> None:
    with pytest.raises(errors.PriceNotInCatalog):
        estimate(uow, deps, tiered, tier="platinum")


def test_the_same_seats_interval_and_tier_is_nothing_to_change(uow, deps, tiered) -> None:
    with pytest.raises(errors.NothingToChange):
        estimate(uow, deps, tiered, interval="month", tier="standard")


def test_a_paid_tier_upgrade_charges_and_pushes_the_new_tiers_price(
    uow, deps, tiered, gateway
) -> None:
    upgrade, _ = submit(uow, deps, tiered, estimate(uow, deps, tiered, tier="professional").id)
    assert (upgrade.from_tier, upgrade.tier) == ("standard", "professional")
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    assert gateway.charges[0]["amount"] == 187747
    assert pay(uow, deps, upgrade.id, 187747) == "applied"
    sub = subscription(uow, tiered)
    assert (sub.tier, sub.interval, sub.stripe_price_id) == (
        "professional",
        "year",
        "price_node_locked_pro_year",
    )
    upgrade_payment.push_upgrade(upgrade.id, uow, deps)
    [change] = gateway.changes
    assert (change.price_id, change.quantity) == ("price_node_locked_pro_year", 1)


def upgrade_to(uow, deps, world, gateway, **kw):
    upgrade, _ = submit(uow, deps, world, estimate(uow, deps, world, **kw).id)
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    assert pay(uow, deps, upgrade.id, gateway.charges[-1]["amount"]) == "applied"
    return upgrade


def test_a_tier_change_issues_a_license_and_offline_license_with_its_features(
    uow, deps, tiered, gateway
) -> None:
    first = upgrade_to(uow, deps, tiered, gateway, tier="professional")
    with uow:
        license = uow.licenses.current(tiered.org_id, "node_locked")
    assert (license.cause, license.tier, license.features) == (
        f"upgrade:{first.id}",
        "professional",
        ("priority_support",),
    )
    claims = json.loads(license_service.license_file(deps, license))["license"]
    assert (claims["tier"], claims["features"]) == ("professional", ["priority_support"])
    owner = Member(tiered.owner["id"], tiered.org_id, tiered.owner["email"], "owner")
    offline, _ = license_service.activate_offline(
        uow, deps, tiered.org_id, owner, "node_locked", "machine-a"
    )
    assert (offline.tier, offline.features, offline.version) == (
        "professional",
        ("priority_support",),
        1,
    )

    upgrade_to(uow, deps, tiered, gateway, tier="enterprise")
    with uow:
        license = uow.licenses.current(tiered.org_id, "node_locked")
        [offline] = uow.licenses.activations(tiered.org_id, "node_locked", active_only=True)
    assert (license.version, license.tier) == (2, "enterprise")
    assert (offline.tier, offline.features, offline.version) == (
        "enterprise",
        ("priority_support", "audit_log"),
        2,
    )
    claims = json.loads(license_service.license_file(deps, offline))["license"]
    assert (claims["tier"], claims["features"]) == ("enterprise", ["priority_support", "audit_log"])


def _synced_tier(uow, deps, world, price_id: str, metadata: dict) -> str:
    event = subscription_event("cus_acme", created=1_641_000_000)
    price = event["data"]["object"]["items"]["data"][0]["price"]
    price["id"], price["metadata"] = price_id, {"license_type": "node_locked", **metadata}
    event["type"] = "customer.subscription.updated"
    assert stripe_events.process_stripe_event(store_event(uow, event), uow, deps) == "applied"
    return subscription(uow, world).tier


def test_a_synced_subscription_takes_the_catalogs_tier_of_its_price(uow, deps, tiered) -> None:
    # the catalog wins over the price's metadata
    price = "price_node_locked_pro_month"
    assert _synced_tier(uow, deps, tiered, price, {"tier": "x"}) == "professional"


def test_a_price_outside_the_catalog_gives_its_metadata_tier_or_standard(uow, deps, tiered) -> None:
    assert _synced_tier(uow, deps, tiered, "price_new", {"tier": "team"}) == "team"
    assert _synced_tier(uow, deps, tiered, "price_newer", {}) == "standard"
