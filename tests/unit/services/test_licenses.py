"""Licenses: one new version per cause, revocation, offline activations, signed files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from adapters.license_signer import verify_file
from api.statuses import status_of
from domain import errors
from domain.commands import RequestEstimate, SubmitUpgrade
from domain.licenses import OfflineNotAllowed, OfflineSeatsExhausted
from services import admin, stripe_events
from services import licenses as license_service
from services.upgrades import charge as upgrade_charge
from services.upgrades import request as upgrade_request
from tests.builders import build_world, invoice_event, store_event, subscription_event
from tests.fakes import TEST_SIGNER, FixedClock, fake_deps

NOW = datetime(2022, 1, 11, tzinfo=UTC)


@pytest.fixture
def deps():
    return fake_deps(FixedClock(NOW))


def world_with(uow, deps, **subscription):
    """An organization whose subscription arrived as a Stripe event (license v1 issued)."""
    world = build_world(uow, customer="cus_lic", with_subscription=False)
    event = subscription_event("cus_lic", **subscription)
    assert stripe_events.process_stripe_event(store_event(uow, event), uow, deps) == "applied"
    world.event = event
    return world


def versions(uow, world) -> list[tuple[int, str, str, int]]:
    with uow:
        return [
            (x.version, x.status, x.cause.split(":")[0], x.seats)
            for x in reversed(uow.licenses.history(world.org_id))
        ]


def process(uow, deps, event) -> str:
    return stripe_events.process_stripe_event(store_event(uow, event), uow, deps)


def test_a_new_subscription_gets_a_signed_license_and_a_replay_issues_nothing(uow, deps) -> None:
    world = world_with(uow, deps, seats=2)
    assert versions(uow, world) == [(1, "current", "created", 2)]
    assert admin.replay_event(uow, deps, world.event["id"]) == "applied"
    assert versions(uow, world) == [(1, "current", "created", 2)]
    with uow:
        [lic] = uow.licenses.history(world.org_id)
    text = license_service.license_file(deps, lic)
    verdict = verify_file(text, TEST_SIGNER.public_key, now=NOW)
    assert verdict.ok and verdict.claims["valid_until"] == "2022-02-08T00:00:00Z"  # + 7 days


def test_an_applied_upgrade_supersedes_the_license_once(uow, deps) -> None:
    world = world_with(uow, deps, seats=1)
    estimate = upgrade_request.request_estimate(
        RequestEstimate(world.org_id, world.owner["id"], "node_locked", 3, "year"), uow, deps
    )
    upgrade, _ = upgrade_request.submit_upgrade(
        SubmitUpgrade(world.org_id, world.owner["id"], estimate.id), uow, deps
    )
    upgrade_charge.charge_upgrade(upgrade.id, uow, deps)
    invoice = f"in_{upgrade.id}"
    paid = invoice_event("invoice.paid", invoice, upgrade.id, estimate.amount, customer="cus_lic")
    assert process(uow, deps, paid) == "applied"
    paid_again = invoice_event(
        "invoice.paid", invoice, upgrade.id, estimate.amount, customer="cus_lic"
    )
    assert process(uow, deps, paid_again) == "applied"
    assert versions(uow, world) == [(1, "superseded", "created", 1), (2, "current", "upgrade", 3)]


def renewal(invoice_id: str, start: datetime, end: datetime) -> dict:
    event = invoice_event("invoice.paid", invoice_id, None, 10000)
    invoice = event["data"]["object"]
    invoice["customer"] = "cus_lic"
    invoice["billing_reason"] = "subscription_cycle"
    invoice["parent"] = {
        "type": "subscription_details",
        "quote_details": None,
        "subscription_details": {"subscription": "sub_acme_nl", "metadata": {}},
    }
    invoice["lines"]["data"][0]["period"] = {
        "start": int(start.timestamp()),
        "end": int(end.timestamp()),
    }
    return event


def test_a_paid_renewal_reissues_with_the_new_period_once(uow, deps) -> None:
    world = world_with(uow, deps, seats=2, interval="year")
    start, end = datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)
    assert process(uow, deps, renewal("in_renew", start, end)) == "applied"
    assert process(uow, deps, renewal("in_renew", start, end)) == "applied"
    assert versions(uow, world) == [(1, "superseded", "created", 2), (2, "current", "renewal", 2)]
    with uow:
        assert uow.licenses.current(world.org_id, "node_locked").valid_until == end + timedelta(
            days=7
        )


def test_an_invoice_for_something_else_is_ignored(uow, deps) -> None:
    world_with(uow, deps)
    event = invoice_event("invoice.paid", "in_other", None, 500)
    assert process(uow, deps, event) == "ignored"


def test_trial_conversion_and_seat_changes_reissue_and_cancel_revokes(uow, deps) -> None:
    world = world_with(uow, deps, seats=2, status="trialing")
    converted = subscription_event("cus_lic", seats=2, status="active", created=1_641_000_000)
    converted["type"] = "customer.subscription.updated"
    more = subscription_event("cus_lic", seats=5, created=1_641_000_100)
    more["type"] = "customer.subscription.updated"
    unchanged = subscription_event("cus_lic", seats=5, created=1_641_000_200)
    unchanged["type"] = "customer.subscription.updated"
    canceled = subscription_event("cus_lic", seats=5, status="canceled", created=1_641_000_300)
    canceled["type"] = "customer.subscription.deleted"
    for event in (converted, more, unchanged, canceled):
        assert process(uow, deps, event) == "applied"
    # The trial converted into the same period: the license grants the same, no new version.
    assert versions(uow, world) == [
        (1, "superseded", "created", 2),
        (2, "superseded", "stripe_sync", 5),
        (3, "revoked", "canceled", 5),
    ]
    with uow:
        revoked = uow.licenses.current(world.org_id, "node_locked")
    verdict = verify_file(
        license_service.license_file(deps, revoked), TEST_SIGNER.public_key, now=NOW
    )
    assert (verdict.ok, verdict.reason) == (False, "license was revoked")


def activate(uow, deps, world, machine, license_type="node_locked", role="admin"):
    from domain.model import Member

    person = getattr(world, role)
    member = Member(person["id"], world.org_id, person["email"], person["role"])
    return license_service.activate_offline(uow, deps, world.org_id, member, license_type, machine)


@pytest.mark.parametrize(
    "subscription",
    [
        {"interval": "month"},
        {"interval": "year", "license_type": "floating"},
        {"interval": "year", "status": "past_due"},
    ],
)
def test_offline_needs_node_locked_annual_active(uow, deps, subscription) -> None:
    world = world_with(uow, deps, **subscription)
    license_type = subscription.get("license_type", "node_locked")
    with pytest.raises(OfflineNotAllowed) as err:
        activate(uow, deps, world, "m-1", license_type)
    assert (err.value.code, status_of(err.value)) == ("offline_requires_node_locked_annual", 422)


def test_offline_activations_never_exceed_seats(uow, deps) -> None:
    world = world_with(uow, deps, seats=2, interval="year")
    first, created = activate(uow, deps, world, "m-1")
    assert created
    again, created_again = activate(uow, deps, world, "m-1")
    assert (again.id, created_again) == (first.id, False)
    activate(uow, deps, world, "m-2")
    with pytest.raises(OfflineSeatsExhausted):
        activate(uow, deps, world, "m-3")
    from domain.model import Member

    admin_member = Member(world.admin["id"], world.org_id, "a", "admin")
    license_service.release_offline(uow, deps, world.org_id, admin_member, first.id)
    with pytest.raises(OfflineSeatsExhausted):  # its file still verifies offline
        activate(uow, deps, world, "m-3")
    expired = fake_deps(FixedClock(first.expires_at))
    assert activate(uow, expired, world, "m-3")[1] is True
    with pytest.raises(errors.NotOwnerOrAdmin):
        activate(uow, deps, world, "m-4", role="member")


def test_offline_licenses_follow_renewal_and_cancellation(uow, deps) -> None:
    world = world_with(uow, deps, seats=2, interval="year")
    activation, _ = activate(uow, deps, world, "m-1")
    assert activation.expires_at == NOW + timedelta(days=30)  # short-lived, renewed
    end = datetime(2024, 1, 1, tzinfo=UTC)
    process(uow, deps, renewal("in_r", datetime(2023, 1, 1, tzinfo=UTC), end))
    later = datetime(2023, 6, 1, tzinfo=UTC)
    renewed = license_service.offline_file(
        uow, fake_deps(FixedClock(later)), world.org_id, activation.id
    )
    assert renewed is not None
    assert (renewed.expires_at, renewed.version) == (later + timedelta(days=30), 2)
    file = license_service.license_file(deps, renewed)
    assert verify_file(file, TEST_SIGNER.public_key, "m-1", now=later).ok
    canceled = subscription_event(
        "cus_lic", seats=2, interval="year", status="canceled", created=1_700_000_000
    )
    canceled["type"] = "customer.subscription.deleted"
    process(uow, deps, canceled)
    with uow:
        assert [a.status for a in uow.licenses.activations(world.org_id)] == ["revoked"]


def _offline_file() -> str:
    from domain.licenses import OfflineActivation

    item = OfflineActivation(
        "off_1", "org_1", "node_locked", "machine-a", NOW, datetime(2023, 1, 1, tzinfo=UTC)
    )
    return TEST_SIGNER.file(item.claims(), TEST_SIGNER.sign(item.claims()))


@pytest.mark.parametrize(
    "field, value",
    [
        ("license_id", "off_2"),
        ("organization_id", "org_2"),
        ("license_type", "floating"),
        ("machine_id", "machine-b"),
        ("issued_at", "2022-01-12T00:00:00Z"),
        ("expires_at", "2099-01-01T00:00:00Z"),
        ("version", 2),
        ("kind", "subscription"),
    ],
)
def test_editing_any_field_breaks_the_signature(field, value) -> None:
    document = json.loads(_offline_file())
    document["license"][field] = value
    verdict = verify_file(json.dumps(document), TEST_SIGNER.public_key, "machine-a", now=NOW)
    assert not verdict.ok and "signature does not match" in verdict.reason


def test_expired_wrong_machine_and_other_key_are_rejected() -> None:
    from adapters.license_signer import LicenseSigner, new_private_key_b64

    text = _offline_file()
    assert verify_file(text, TEST_SIGNER.public_key, "machine-a", now=NOW).ok
    assert (
        "expired"
        in verify_file(
            text, TEST_SIGNER.public_key, "machine-a", now=datetime(2023, 1, 1, tzinfo=UTC)
        ).reason
    )
    assert (
        "bound to machine" in verify_file(text, TEST_SIGNER.public_key, "machine-b", now=NOW).reason
    )
    other = LicenseSigner.from_base64(new_private_key_b64()).public_key
    assert "signature does not match" in verify_file(text, other, "machine-a", now=NOW).reason
    assert "not a seatflow license" in verify_file("{}", TEST_SIGNER.public_key).reason


def test_a_license_of_an_organization_created_in_the_same_transaction_is_read_back(
    uow, deps
) -> None:
    from domain.model import Organization, Subscription

    org = Organization(id="org_fresh", name="Fresh", stripe_customer_id="cus_fresh")
    sub = Subscription("node_locked", 3, "year", "active", NOW, NOW + timedelta(days=365))
    org.subscriptions.append(sub)
    with uow:
        uow.organizations.add(org)  # not written yet: the read writes it before the license
        issued = license_service.regenerate(uow, org, sub, "manual:fresh", deps, NOW)
        assert issued is not None
        assert [(x.version, x.seats) for x in uow.licenses.history("org_fresh")] == [(1, 3)]
        uow.commit()


@pytest.mark.parametrize("invoice_first", [False, True])
def test_a_trial_converting_to_paid_issues_one_new_version(uow, deps, invoice_first) -> None:
    """Stripe says it twice (the subscription turned active, its first invoice paid), in
    either order: the license's content changes once, so one new version is issued."""
    trial_start = datetime(2022, 1, 1, tzinfo=UTC)
    world = world_with(uow, deps, seats=2, status="trialing", start=trial_start)
    start, end = datetime(2022, 2, 1, tzinfo=UTC), datetime(2022, 3, 1, tzinfo=UTC)
    converted = subscription_event(
        "cus_lic", seats=2, status="active", start=start, created=1_643_673_700
    )
    converted["type"] = "customer.subscription.updated"
    paid = renewal("in_first", start, end)
    for event in (paid, converted) if invoice_first else (converted, paid):
        assert process(uow, deps, event) == "applied"
    first_cause = "renewal" if invoice_first else "trial_converted"
    assert versions(uow, world) == [(1, "superseded", "created", 2), (2, "current", first_cause, 2)]
    with uow:
        assert uow.licenses.current(world.org_id, "node_locked").valid_until == end + timedelta(
            days=7
        )


def test_a_trialing_subscriptions_license_is_valid_to_the_trials_end_plus_the_grace(
    uow, deps
) -> None:
    world = world_with(uow, deps, seats=2, status="trialing")
    with uow:
        org = uow.organizations.get(world.org_id)
        trial_end = org.subscription_for("node_locked").current_period_end
        license = uow.licenses.current(world.org_id, "node_locked")
    assert license.valid_until == trial_end + deps.license_grace


def test_offline_licenses_above_a_lowered_seat_count_are_released_and_lapse(uow, deps) -> None:
    """Stripe lowers 3 seats to 1: the offline license renewed most recently stays; the
    others are released (no longer renewed, downloads refused) and their files lapse when
    they expire, at the latest at the old period's end."""
    world = world_with(uow, deps, seats=3, interval="year")
    first, _ = activate(uow, deps, world, "m-1")
    second, _ = activate(uow, fake_deps(FixedClock(NOW + timedelta(days=1))), world, "m-2")
    third, _ = activate(uow, fake_deps(FixedClock(NOW + timedelta(days=2))), world, "m-3")
    third_expires_at = third.expires_at  # as issued (the fake keeps the object it renews)
    lowered = subscription_event("cus_lic", seats=1, interval="year", created=1_641_900_000)
    lowered["type"] = "customer.subscription.updated"
    assert process(uow, deps, lowered) == "applied"

    with uow:
        found = {a.machine_id: a for a in uow.licenses.activations(world.org_id)}
        period_end = uow.organizations.get(world.org_id).subscriptions[0].current_period_end
    assert {m: a.status for m, a in found.items()} == {
        "m-1": "released",
        "m-2": "released",
        "m-3": "active",
    }
    assert found["m-1"].expires_at == first.expires_at <= period_end
    assert found["m-2"].expires_at == second.expires_at <= period_end
    later = fake_deps(FixedClock(NOW + timedelta(days=20)))
    assert license_service.offline_file(uow, later, world.org_id, first.id) is None
    kept = license_service.offline_file(uow, later, world.org_id, third.id)
    assert kept is not None and kept.expires_at > third_expires_at  # still renewed
