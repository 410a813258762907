"""Issue, supersede and revoke licenses, in the transaction of the change that causes them.

Causes are strings such as `upgrade:upg_…`, `renewal:in_…`, `trial_converted:evt_…`,
`canceled:evt_…`, `stripe_sync:evt_…`; the table allows each cause once per license type, and
`regenerate` checks first, so a repeated event issues nothing.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from domain.errors import NoLicenseBought
from domain.events import SubscriptionChanged
from domain.licenses import (
    ActivationNotFound,
    ActivationStatus,
    License,
    LicenseStatus,
    LicenseTerms,
    OfflineActivation,
    beyond_seats,
    check_machine_id,
    check_offline_allowed,
    check_seat_free,
    offline_expiry,
    offline_refusal,
    valid_until,
)
from domain.model import Member, Organization, Subscription, SubscriptionStatus, offline_allowed
from domain.ports import UnitOfWork
from services.deps import Deps


def issue_for_change(event: SubscriptionChanged, uow: UnitOfWork, deps: Deps) -> None:
    """The one reaction to a changed subscription: its license's next version."""
    org = uow.organizations.get(event.organization_id)
    if org is None:
        raise NoLicenseBought(f"no {event.license_type} subscription to license")
    sub = org.bought(event.license_type)
    regenerate(uow, org, sub, event.cause, deps, event.at, only_if_changed=True)


def regenerate(
    uow: UnitOfWork,
    org: Organization,
    sub: Subscription,
    cause: str,
    deps: Deps,
    now: datetime | None = None,
    only_if_changed: bool = False,
) -> License | None:
    """A new version of the subscription's license, or None if `cause` already issued one
    (or, `only_if_changed`, if the current version already grants the same)."""
    now = now or deps.clock.now()
    revoked = sub.status == SubscriptionStatus.CANCELED
    features = uow.catalog.load().features(sub.license_type, sub.tier)
    terms = LicenseTerms(
        seats=sub.seats,
        interval=sub.interval,
        tier=sub.tier,
        features=features,
        valid_until=now if revoked else valid_until(sub.current_period_end, deps.license_grace),
        revoked=revoked,
    )
    if only_if_changed and uow.licenses.current_terms(org.id, sub.license_type) == terms:
        # The current version grants the same: a second cause of one change (a trial
        # converting says so twice: the subscription turned active, its first invoice paid).
        return None
    # The common case in one statement: a current license of another cause is superseded.
    superseded = uow.licenses.supersede_current(org.id, sub.license_type, cause)
    previous_interval: str | None
    if superseded is not None:
        version, previous_interval = superseded[0] + 1, superseded[1]
    else:
        previous = uow.licenses.current(org.id, sub.license_type)
        # A repeated cause is nearly always the newest one (a replayed event); an older cause
        # cannot come back through the version guard, and the unique (type, cause) index
        # would refuse it anyway.
        if previous is not None and previous.cause == cause:
            return None
        # Otherwise there is none yet, or the newest one was revoked (it stays revoked).
        version = previous.version + 1 if previous else 1
        previous_interval = previous.interval if previous else None
    license = License(
        id=f"lic_{secrets.token_hex(10)}",
        organization_id=org.id,
        license_type=sub.license_type,
        seats=terms.seats,
        interval=terms.interval,
        valid_until=terms.valid_until,
        version=version,
        issued_at=now,
        cause=cause,
        status=(LicenseStatus.REVOKED if revoked else LicenseStatus.CURRENT).value,
        tier=terms.tier,
        features=features,
    )
    license.signature = deps.signer.sign(license.claims())
    uow.licenses.add(license)
    had_offline = previous_interval is not None and offline_allowed(
        sub.license_type, previous_interval
    )
    if sub.offline_allowed or had_offline:
        # Offline licenses exist only where the rule allows them; a subscription that did not
        # allow them at its previous version has none left to follow.
        _follow_offline(uow, org, sub, deps, now, revoked, features)
    return license


def _follow_offline(
    uow: UnitOfWork,
    org: Organization,
    sub: Subscription,
    deps: Deps,
    now: datetime,
    revoked: bool,
    features: tuple[str, ...],
) -> None:
    """Reissue active offline licenses with the new expiry and tier, or revoke them with the
    license; those above the seat count are released (see `beyond_seats`)."""
    active = uow.licenses.activations(org.id, sub.license_type, active_only=True)
    for activation in beyond_seats(active, sub.seats):
        activation.status = ActivationStatus.RELEASED.value
    for activation in active:
        if revoked or not sub.offline_allowed:
            activation.status = ActivationStatus.REVOKED.value
            continue
        retiered = activation.take_tier(now, sub.tier, features)
        if activation.renew(now, sub.current_period_end) or retiered:
            activation.signature = deps.signer.sign(activation.claims())


def activate_offline(
    uow: UnitOfWork, deps: Deps, org_id: str, member: Member, license_type: str, machine_id: str
) -> tuple[OfflineActivation, bool]:
    """Bind a machine to a seat; (activation, created). The same machine gets its own back."""
    check_machine_id(machine_id)
    now = deps.clock.now()
    with uow:
        member.require_upgrader()
        org = uow.organizations.locked(org_id)  # serializes activations: never more than the seats
        sub = org.bought(license_type)
        check_offline_allowed(sub)
        every = uow.licenses.activations(org.id, license_type)
        same = next((a for a in every if a.active and a.machine_id == machine_id), None)
        if same is not None:
            if same.renew(now, sub.current_period_end):
                same.signature = deps.signer.sign(same.claims())
                uow.commit()
            return same, False
        check_seat_free(every, machine_id, sub.seats, now)
        activation = OfflineActivation(
            id=f"off_{secrets.token_hex(10)}",
            organization_id=org.id,
            license_type=license_type,
            machine_id=machine_id,
            issued_at=now,
            expires_at=offline_expiry(now, sub.current_period_end),
            tier=sub.tier,
            features=uow.catalog.load().features(license_type, sub.tier),
        )
        activation.signature = deps.signer.sign(activation.claims())
        uow.licenses.add(activation)
        uow.commit()
    return activation, True


def release_offline(
    uow: UnitOfWork, deps: Deps, org_id: str, member: Member, activation_id: str
) -> OfflineActivation:
    with uow:
        member.require_upgrader()
        org = uow.organizations.locked(org_id)
        activation = uow.licenses.activation(org.id, activation_id)
        if activation is None:
            raise ActivationNotFound(f"no offline license {activation_id!r}")
        if activation.active:
            activation.status = ActivationStatus.RELEASED.value
            uow.commit()
    return activation


def offline_file(
    uow: UnitOfWork, deps: Deps, org_id: str, activation_id: str
) -> OfflineActivation | None:
    """An active offline license to download, renewed first when its file is due (files are
    short-lived); None if there is no such active license."""
    with uow:
        org = uow.organizations.locked(org_id)
        activation = uow.licenses.activation(org.id, activation_id)
        if activation is None or not activation.active:
            return None
        sub = org.subscription_for(activation.license_type)
        if sub is None or offline_refusal(sub) is not None:
            return activation  # nothing to renew from: the file runs out
        if activation.renew(deps.clock.now(), sub.current_period_end):
            activation.signature = deps.signer.sign(activation.claims())
            uow.commit()
    return activation


def license_file(deps: Deps, item: License | OfflineActivation) -> str:
    return deps.signer.file(item.claims(), item.signature)
