"""Handlers of the upgrade saga: estimate, submit, charge, confirm, fail, cancel, expire, push.

Every handler locks the organization row first, so one organization's changes happen one at
a time while other organizations proceed in parallel. Stripe is called outside of any
transaction; the state written before and after each call makes a retried step safe.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from config.tasks import CHARGE_UPGRADE
from domain import pricing
from domain.commands import (
    CancelUpgrade,
    RequestEstimate,
    SubmitUpgrade,
)
from domain.discounts import Discount, Reduction, canonical_code
from domain.errors import (
    EstimateAlreadyUsed,
    EstimateNotFound,
    EstimateStale,
    IdempotencyKeyReused,
    InvalidTransition,
    OrganizationNotFound,
    UpgradeAlreadyOpen,
    UpgradeAlreadyPaid,
    UpgradeNotFound,
)
from domain.payment_methods import InvoiceFact
from domain.ports import DuplicateRow, UnitOfWork
from domain.upgrades import CANCELABLE, Estimate, Upgrade, UpgradeState, UpgradeTransition
from services import messagebus
from services.deps import Deps
from services.upgrades import promotion
from services.upgrades.steps import locked_upgrade, member_of, upgrade_paid

log = logging.getLogger("seatflow.upgrades")
S = UpgradeState


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def usable_discount(
    uow: UnitOfWork, code: str | None, now: datetime, lock: bool = False
) -> Discount | None:
    """The code's discount if a redemption is free now, counting the ones reserved by
    upgrades not yet paid; with `lock`, the code's row stays locked until the commit, so
    that two submissions cannot take its last redemption."""
    found = uow.catalog.discount(code, lock=lock) if code else None
    reserved = uow.upgrades.reserved(code) if code else 0
    return pricing.usable_discount(found, code, now, reserved)


def request_estimate(cmd: RequestEstimate, uow: UnitOfWork, deps: Deps) -> Estimate:
    """An estimate of the change, with the discount the code names: seatflow's own code, or
    (when it has none of that text) Stripe's promotion code, read before the transaction."""
    code = canonical_code(cmd.discount_code) if cmd.discount_code else None
    stripe_code = promotion.look_up(code, cmd.organization_id, cmd.member_id, uow, deps)
    now = deps.clock.now()
    with uow:
        org = uow.organizations.get(cmd.organization_id)
        if org is None:
            raise OrganizationNotFound(f"no organization {cmd.organization_id!r}")
        member = member_of(uow, org, cmd.member_id)
        catalog = uow.catalog.load()
        sub = org.check_upgrade(
            member, cmd.license_type, cmd.seats, cmd.interval, now, cmd.tier, catalog
        )
        tier = cmd.tier or sub.tier
        discount: Reduction | None = (
            stripe_code.usable(now, org.stripe_customer_id)
            if stripe_code
            else usable_discount(uow, code, now)
        )
        s = pricing.surcharge_for(catalog, sub, cmd.seats, cmd.interval, discount, now, tier)
        estimate = Estimate(
            id=_new_id("est"),
            organization_id=org.id,
            license_type=sub.license_type,
            from_seats=sub.seats,
            from_interval=sub.interval,
            seats=cmd.seats,
            interval=cmd.interval,
            currency=s.amount.currency,
            amount=s.amount.amount,
            before_discount=s.before_discount.amount,
            discount_amount=s.discount.amount,
            old_term=s.old_term.amount,
            new_term=s.new_term.amount,
            old_unused_minutes=s.old_unused_minutes,
            old_total_minutes=s.old_total_minutes,
            new_unused_minutes=s.new_unused_minutes,
            new_total_minutes=s.new_total_minutes,
            cycle_start=s.cycle_start,
            current_cycle_end=s.current_cycle_end,
            new_cycle_end=s.new_cycle_end,
            next_invoice_at=s.next_invoice_at,
            next_invoice_amount=s.next_invoice_amount.amount,
            trial=s.trial,
            computed_at=now,
            expires_at=now + deps.estimate_ttl,
            discount_code=code,
            promotion_code_id=stripe_code.promotion.id if stripe_code else None,
            from_tier=sub.tier,
            tier=tier,
        )
        uow.upgrades.add_estimate(estimate)
        uow.commit()
    return estimate


def submit_upgrade(cmd: SubmitUpgrade, uow: UnitOfWork, deps: Deps) -> tuple[Upgrade, bool]:
    """Accept an upgrade for charging; (upgrade, created). The same key gives the same one."""
    now = deps.clock.now()
    with uow:
        org = uow.organizations.locked(cmd.organization_id)
        member = member_of(uow, org, cmd.member_id)
        member.require_upgrader()  # before anything is looked up for the caller
        if cmd.idempotency_key:
            earlier = uow.upgrades.by_idempotency_key(org.id, cmd.idempotency_key)
            if earlier is not None:
                if earlier.estimate_id != cmd.estimate_id:
                    raise IdempotencyKeyReused("this Idempotency-Key was used for another estimate")
                return earlier, False
        estimate = _submittable(uow, org.id, cmd.estimate_id, now)
        org.check_upgrade(
            member,
            estimate.license_type,
            estimate.seats,
            estimate.interval,
            now,
            estimate.tier,
            uow.catalog.load(),
        )
        if not estimate.promotion_code_id:  # Stripe counts its own codes' redemptions
            usable_discount(uow, estimate.discount_code, now, lock=True)  # reserves it
        if uow.upgrades.open_for(org.id, estimate.license_type) is not None:
            raise UpgradeAlreadyOpen(
                f"the {estimate.license_type} subscription has an open upgrade"
            )
        upgrade = _new_upgrade(estimate, cmd.idempotency_key, now, f"submitted by {member.email}")
        estimate.status = "used"
        uow.upgrades.add(upgrade)
        uow.enqueue_after_commit(CHARGE_UPGRADE, [upgrade.id])
        try:
            uow.commit()
        except DuplicateRow:
            # The row lock makes this rare; the unique indexes make it safe.
            uow.rollback()
            earlier = (
                uow.upgrades.by_idempotency_key(org.id, cmd.idempotency_key)
                if cmd.idempotency_key
                else None
            )
            if earlier is not None:
                return earlier, False
            raise UpgradeAlreadyOpen(
                f"the {estimate.license_type} subscription has an open upgrade"
            ) from None
    return upgrade, True


def _submittable(
    uow: UnitOfWork, organization_id: str, estimate_id: str, now: datetime
) -> Estimate:
    """The estimate, if it exists, was never submitted and has not expired."""
    estimate = uow.upgrades.estimate(organization_id, estimate_id)
    if estimate is None:
        raise EstimateNotFound(f"no estimate {estimate_id!r}")
    if estimate.status == "used":
        raise EstimateAlreadyUsed(f"estimate {estimate.id} was submitted already")
    if estimate.is_stale(now):
        raise EstimateStale("the estimate expired; request a fresh one")
    return estimate


def _new_upgrade(estimate: Estimate, key: str | None, now: datetime, cause: str) -> Upgrade:
    upgrade = Upgrade(
        id=_new_id("upg"),
        organization_id=estimate.organization_id,
        license_type=estimate.license_type,
        estimate_id=estimate.id,
        from_seats=estimate.from_seats,
        from_interval=estimate.from_interval,
        seats=estimate.seats,
        interval=estimate.interval,
        currency=estimate.currency,
        estimate_amount=estimate.amount,
        state=S.REQUESTED.value,
        created_at=now,
        updated_at=now,
        discount_code=estimate.discount_code,
        promotion_code_id=estimate.promotion_code_id,
        idempotency_key=key,
        from_tier=estimate.from_tier,
        tier=estimate.tier,
    )
    upgrade.history.append(UpgradeTransition(None, S.REQUESTED.value, now, cause))
    return upgrade


def cancel_upgrade(cmd: CancelUpgrade, uow: UnitOfWork, deps: Deps) -> Upgrade:
    """Cancel an unpaid upgrade. Its invoice is voided first, and only then is it canceled;
    if Stripe says the invoice was paid, the upgrade is applied and UpgradeAlreadyPaid says so.
    An upgrade whose charge is under way is canceled at once: the charge step voids (or
    refunds) what it made."""
    with uow:
        org = uow.organizations.locked(cmd.organization_id)
        member = member_of(uow, org, cmd.member_id)
        member.require_upgrader()
        upgrade = _cancelable(uow, org.id, cmd.upgrade_id)
        invoice_id = upgrade.stripe_invoice_id
        if invoice_id is None:
            if upgrade.state == S.CHARGING and upgrade.retry_at is not None:
                # Its charge is talking to Stripe: whatever invoice it made is voided.
                uow.enqueue_after_commit(CHARGE_UPGRADE, [upgrade.id])
            upgrade.move(S.CANCELED, deps.clock.now(), f"canceled by {member.email}")
            uow.commit()
            return upgrade
    if deps.gateway.void_invoice(upgrade_id=upgrade.id, invoice_id=invoice_id) == "paid":
        _apply_paid_invoice(upgrade.id, deps.door.invoice(invoice_id), uow, deps)
        raise UpgradeAlreadyPaid(f"invoice {invoice_id} was already paid; the upgrade applies")
    with uow:
        org = uow.organizations.locked(cmd.organization_id)
        upgrade = _cancelable(uow, org.id, cmd.upgrade_id)
        upgrade.move(S.CANCELED, deps.clock.now(), f"canceled by {member.email}")
        upgrade.retry_at = None  # its invoice is void: nothing left to settle
        uow.commit()
    return upgrade


def _cancelable(uow: UnitOfWork, organization_id: str, upgrade_id: str) -> Upgrade:
    upgrade = uow.upgrades.for_organization(organization_id, upgrade_id)
    if upgrade is None:
        raise UpgradeNotFound(f"no upgrade {upgrade_id!r}")
    if upgrade.state not in CANCELABLE:
        if upgrade.state in (S.PAID, S.APPLIED):
            raise UpgradeAlreadyPaid(f"upgrade {upgrade_id} was paid")
        raise InvalidTransition(f"an upgrade that is {upgrade.state} cannot be canceled")
    return upgrade


def _apply_paid_invoice(upgrade_id: str, invoice: InvoiceFact, uow: UnitOfWork, deps: Deps) -> None:
    """Stripe's paid invoice, applied as its `invoice.paid` would be (which then is a no-op)."""
    with uow:
        found = locked_upgrade(uow, upgrade_id)
        assert found is not None
        upgrade_paid(uow, *found, invoice, int(deps.clock.now().timestamp()), deps)
        messagebus.commit(uow, deps)
