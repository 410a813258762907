"""The payment half of the upgrade saga.

charge:   requested → charging (amount recomputed now; drift recorded) → Stripe invoice →
          awaiting_payment, or payment_failed when the card is declined. Zero → applied at once.
confirm:  `invoice.paid` → paid → applied (subscription, ledger), then the Stripe
          subscription is updated by a separate task, so a Stripe hiccup never delays what
          the customer paid for.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from adapters.unit_of_work import SqlUnitOfWork
from config.metrics import observe_estimate_drift
from config.tasks import PUSH_UPGRADE
from domain.commands import ConfirmInvoicePaid, RecordPaymentFailed
from domain.errors import OrganizationNotFound
from domain.model import Organization
from domain.ports import SubscriptionChange
from domain.upgrades import Upgrade, UpgradeState
from services import messagebus
from services.deps import Deps
from services.upgrades import surcharge_for, usable_discount

log = logging.getLogger("seatflow.upgrades")
S = UpgradeState


def _upgrade_of_org(uow: SqlUnitOfWork, upgrade_id: str) -> tuple[Organization, Upgrade] | None:
    found = uow.upgrades.get(upgrade_id)
    if found is None:
        return None
    org = uow.organizations.locked(found.organization_id)  # lock first, then re-read under the lock
    uow.session.refresh(found)
    return org, found


def _apply(
    uow: SqlUnitOfWork,
    org: Organization,
    upgrade: Upgrade,
    version: int,
    now: datetime,
    cause: str,
    deps: Deps,
) -> None:
    upgrade.move(S.PAID, now, cause)
    price = uow.catalog.load().price(upgrade.license_type, upgrade.interval)
    org.apply_upgrade(upgrade, price, version, now)
    if upgrade.discount_code:
        discount = uow.catalog.discount(upgrade.discount_code, lock=True)
        if discount is not None:
            discount.redeem()
    upgrade.move(S.APPLIED, now, "subscription changed")
    uow.enqueue_after_commit(PUSH_UPGRADE, [upgrade.id])
    _log("upgrade applied", upgrade, cause=cause)


def _log(message: str, upgrade: Upgrade, **extra: object) -> None:
    log.info(
        message,
        extra={
            "upgrade_id": upgrade.id,
            "organization_id": upgrade.organization_id,
            "state": upgrade.state,
            **extra,
        },
    )


def charge_upgrade(upgrade_id: str, uow: SqlUnitOfWork, deps: Deps) -> str:
    """Charge the surcharge. Safe to run again at any point: it resumes where it stopped."""
    now = deps.clock.now()
    with uow:
        found = _upgrade_of_org(uow, upgrade_id)
        if found is None:
            return "missing"
        org, upgrade = found
        if upgrade.state == S.REQUESTED:
            sub = org.subscription_for(upgrade.license_type)
            assert sub is not None, "an upgrade exists only for a bought subscription"
            charged = surcharge_for(
                uow,
                sub,
                upgrade.seats,
                upgrade.interval,
                usable_discount(uow, upgrade.discount_code, now),
                now,
            )
            upgrade.record_charge(charged.amount.amount)
            observe_estimate_drift(upgrade.drift or 0)
            if charged.amount.amount == 0:
                reason = "in trial: free" if charged.trial else "nothing to charge"
                _apply(uow, org, upgrade, sub.stripe_version, now, reason, deps)
                messagebus.commit(uow, deps)
                return upgrade.state
            upgrade.move(S.CHARGING, now, f"charging {charged.amount}")
            messagebus.commit(uow, deps)
        if upgrade.state != S.CHARGING:
            return upgrade.state
        customer, amount = org.stripe_customer_id, upgrade.charged_amount
    if not customer or amount is None:
        raise OrganizationNotFound(f"organization {org.id} has no Stripe customer")
    result = deps.gateway.charge(
        upgrade_id=upgrade.id,
        customer_id=customer,
        amount=amount,
        currency=upgrade.currency,
        description=f"Upgrade {upgrade.license_type}: {upgrade.from_seats}→{upgrade.seats} "
        f"seats, {upgrade.from_interval}→{upgrade.interval}",
        metadata={"organization_id": org.id, "upgrade_id": upgrade.id},
    )
    with uow:
        org, upgrade = _upgrade_of_org(uow, upgrade_id) or (org, upgrade)
        upgrade.stripe_invoice_id = upgrade.stripe_invoice_id or result.invoice_id
        if result.failure and upgrade.state in (S.CHARGING, S.AWAITING_PAYMENT):
            upgrade.failure_reason = result.failure
            upgrade.move(S.PAYMENT_FAILED, deps.clock.now(), f"declined: {result.failure}")
        elif upgrade.state == S.CHARGING:
            upgrade.move(S.AWAITING_PAYMENT, deps.clock.now(), f"invoice {result.invoice_id}")
        messagebus.commit(uow, deps)
    _log("upgrade charged", upgrade, invoice_id=result.invoice_id)
    return upgrade.state


def _find(
    uow: SqlUnitOfWork, upgrade_id: str | None, invoice_id: str
) -> tuple[Organization, Upgrade] | None:
    upgrade = uow.upgrades.get(upgrade_id) if upgrade_id else None
    upgrade = upgrade or uow.upgrades.by_invoice(invoice_id)
    return _upgrade_of_org(uow, upgrade.id) if upgrade else None


def confirm_invoice_paid(cmd: ConfirmInvoicePaid, uow: SqlUnitOfWork, deps: Deps) -> str:
    """`invoice.paid`: the only cause that applies an upgrade that costs money."""
    found = _find(uow, cmd.upgrade_id, cmd.invoice_id)
    if found is None:
        return _renewal_paid(cmd, uow, deps)
    org, upgrade = found
    if upgrade.state in (S.APPLIED, S.PAID):
        return "applied"
    upgrade.stripe_invoice_id = upgrade.stripe_invoice_id or cmd.invoice_id
    upgrade.paid_amount = cmd.amount_paid
    if upgrade.charged_amount is not None and cmd.amount_paid != upgrade.charged_amount:
        log.error(
            "Stripe charged another amount than computed",
            extra={
                "upgrade_id": upgrade.id,
                "charged": cmd.amount_paid,
                "computed": upgrade.charged_amount,
            },
        )
    _apply(uow, org, upgrade, cmd.version, deps.clock.now(), f"invoice.paid {cmd.invoice_id}", deps)
    return "applied"


def record_payment_failed(cmd: RecordPaymentFailed, uow: SqlUnitOfWork, deps: Deps) -> str:
    found = _find(uow, cmd.upgrade_id, cmd.invoice_id)
    if found is None:
        return "ignored"
    _, upgrade = found
    if upgrade.state in (S.CHARGING, S.AWAITING_PAYMENT):
        upgrade.stripe_invoice_id = upgrade.stripe_invoice_id or cmd.invoice_id
        upgrade.failure_reason = cmd.reason
        upgrade.move(S.PAYMENT_FAILED, deps.clock.now(), f"invoice.payment_failed: {cmd.reason}")
    return "applied"


def push_upgrade(upgrade_id: str, uow: SqlUnitOfWork, deps: Deps) -> bool:
    """Give Stripe the new price and quantity (no second charge); True once done."""
    with uow:
        upgrade = uow.upgrades.get(upgrade_id)
        if upgrade is None or upgrade.state != S.APPLIED or upgrade.stripe_synced_at:
            return False
        org = uow.organizations.get(upgrade.organization_id)
        sub = org.subscription_for(upgrade.license_type) if org else None
        if sub is None or not sub.stripe_subscription_id or not sub.stripe_item_id:
            log.warning("no Stripe subscription to update", extra={"upgrade_id": upgrade_id})
            return False
        price = uow.catalog.load().price(upgrade.license_type, upgrade.interval)
        change = SubscriptionChange(
            upgrade_id=upgrade.id,
            subscription_id=sub.stripe_subscription_id,
            item_id=sub.stripe_item_id,
            price_id=price.stripe_price_id,
            quantity=upgrade.seats,
            cycle_start=sub.current_period_start,
            # In a trial nothing was prepaid: Stripe keeps the trial's end and bills the new
            # price then.
            prepaid_until=sub.current_period_end
            if upgrade.interval != upgrade.from_interval and not sub.in_trial
            else None,
        )
    deps.gateway.update_subscription(change)
    with uow:
        upgrade = uow.upgrades.get(upgrade_id, lock=True)
        assert upgrade is not None
        upgrade.stripe_synced_at = deps.clock.now()
        messagebus.commit(uow, deps)
    return True


def expire_unpaid(uow: SqlUnitOfWork, deps: Deps) -> list[str]:
    """Void invoices left unpaid too long and expire their upgrades."""
    now = deps.clock.now()
    with uow:
        ids = uow.upgrades.unpaid_before(now - deps.unpaid_after)
    expired = []
    for upgrade_id in ids:
        with uow:
            found = _upgrade_of_org(uow, upgrade_id)
            if found is None or found[1].state not in (S.AWAITING_PAYMENT, S.PAYMENT_FAILED):
                continue
            upgrade = found[1]
            invoice_id = upgrade.stripe_invoice_id
        if invoice_id and not deps.gateway.void_invoice(
            upgrade_id=upgrade_id, invoice_id=invoice_id
        ):
            continue  # paid meanwhile: invoice.paid will apply it
        with uow:
            found = _upgrade_of_org(uow, upgrade_id)
            if found and found[1].state in (S.AWAITING_PAYMENT, S.PAYMENT_FAILED):
                found[1].move(S.EXPIRED, now, f"unpaid after {deps.unpaid_after}")
                messagebus.commit(uow, deps)
                expired.append(upgrade_id)
    return expired


def resume_stuck(uow: SqlUnitOfWork, deps: Deps, older_than_seconds: int = 120) -> int:
    """Re-enqueue saga steps whose message was lost: unsent charges and unpushed changes."""
    from datetime import timedelta

    from sqlalchemy import or_, select

    from adapters.orm import upgrades as table
    from config.tasks import CHARGE_UPGRADE

    cutoff = deps.clock.now() - timedelta(seconds=older_than_seconds)
    with uow:
        rows = uow.session.execute(
            select(table.c.id, table.c.state).where(
                table.c.updated_at < cutoff,
                or_(
                    table.c.state.in_([S.REQUESTED.value, S.CHARGING.value]),
                    (table.c.state == S.APPLIED.value) & table.c.stripe_synced_at.is_(None),
                ),
            )
        ).all()
        for upgrade_id, state in rows:
            task = PUSH_UPGRADE if state == S.APPLIED else CHARGE_UPGRADE
            uow.enqueue_after_commit(task, [upgrade_id])
        messagebus.commit(uow, deps)
    return len(rows)


def _renewal_paid(cmd: ConfirmInvoicePaid, uow: SqlUnitOfWork, deps: Deps) -> str:
    """A paid subscription cycle: the period moves on and the license is re-issued."""
    if cmd.billing_reason != "subscription_cycle" or not cmd.subscription_id:
        return "ignored"
    org = uow.organizations.get_by_customer(cmd.stripe_customer_id or "", lock=True)
    sub = org.subscription_by_stripe_id(cmd.subscription_id) if org else None
    if org is None or sub is None:
        return "ignored"
    start, end = (
        (datetime.fromtimestamp(cmd.period_start, UTC), datetime.fromtimestamp(cmd.period_end, UTC))
        if cmd.period_start and cmd.period_end
        else (None, None)
    )
    org.renew(sub, start, end, cmd.invoice_id)
    return "applied"


def close_unpaid(uow: SqlUnitOfWork, upgrade_id: str, cause: str, deps: Deps) -> None:
    """Stripe says the invoice will never be paid: the upgrade expires (inside `uow`)."""
    found = _upgrade_of_org(uow, upgrade_id)
    if found and found[1].state in (S.CHARGING, S.AWAITING_PAYMENT, S.PAYMENT_FAILED):
        upgrade = found[1]
        if upgrade.state == S.CHARGING:
            upgrade.move(S.AWAITING_PAYMENT, deps.clock.now(), "invoice found at Stripe")
        upgrade.move(S.EXPIRED, deps.clock.now(), cause)
