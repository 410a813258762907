"""The payment half of the upgrade saga (the charge step is in `services.upgrade_charge`).

confirm:  `invoice.paid` → paid → applied (subscription, ledger), then the Stripe
          subscription is updated by a separate task, so a Stripe hiccup never delays what
          the customer paid for. A payment for an upgrade that is no longer the one being
          paid (canceled, or superseded by a later one) is refunded and recorded.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from adapters.unit_of_work import SqlUnitOfWork
from config.metrics import PAYMENT_DRIFT
from domain.commands import ConfirmInvoicePaid, RecordPaymentActionRequired, RecordPaymentFailed
from domain.model import Organization
from domain.ports import ChargeUnavailable, SubscriptionChange
from domain.upgrades import Upgrade, UpgradeState
from services import messagebus
from services.deps import Deps
from services.upgrade_charge import charge_upgrade, resume_stuck
from services.upgrade_steps import apply_paid, locked_upgrade, refund

log = logging.getLogger("seatflow.upgrades")
S = UpgradeState
UNPAID = (S.AWAITING_PAYMENT, S.REQUIRES_ACTION, S.PAYMENT_FAILED)


def _find(
    uow: SqlUnitOfWork, upgrade_id: str | None, invoice_id: str
) -> tuple[Organization, Upgrade] | None:
    upgrade = uow.upgrades.get(upgrade_id) if upgrade_id else None
    upgrade = upgrade or uow.upgrades.by_invoice(invoice_id)
    return locked_upgrade(uow, upgrade.id) if upgrade else None


def confirm_invoice_paid(cmd: ConfirmInvoicePaid, uow: SqlUnitOfWork, deps: Deps) -> str:
    """`invoice.paid`: the only cause that applies an upgrade that costs money, and only for
    the upgrade's own invoice, of its customer, currency, mode and exact amount."""
    found = _find(uow, cmd.upgrade_id, cmd.invoice_id)
    if found is None:
        return _renewal_paid(cmd, uow, deps)
    org, upgrade = found
    mismatch = _mismatch(cmd, org, upgrade, deps)
    if mismatch is not None:
        _record_drift(uow, org, upgrade, cmd, mismatch, deps)
        return "ignored"
    if upgrade.state in (S.APPLIED, S.PAID, S.REFUNDED):
        return "applied"
    upgrade.stripe_invoice_id = upgrade.stripe_invoice_id or cmd.invoice_id
    if _no_longer_paid_for(upgrade):
        refund(upgrade, cmd.invoice_id, cmd.amount_paid, deps, f"invoice.paid {cmd.invoice_id}")
        return "applied"
    upgrade.paid_amount = cmd.amount_paid
    apply_paid(uow, org, upgrade, cmd.version, deps.clock.now(), f"invoice.paid {cmd.invoice_id}")
    return "applied"


def _mismatch(
    cmd: ConfirmInvoicePaid, org: Organization, upgrade: Upgrade, deps: Deps
) -> str | None:
    """What makes this payment not the upgrade's own, or None."""
    if cmd.stripe_customer_id != org.stripe_customer_id:
        return "customer"
    if upgrade.stripe_invoice_id and cmd.invoice_id != upgrade.stripe_invoice_id:
        return "invoice"
    if upgrade.charged_amount is None:
        return "no_invoice"  # nothing was invoiced yet
    if cmd.currency.lower() != upgrade.currency.lower():
        return "currency"
    if cmd.livemode != deps.origin.livemode:
        return "livemode"
    if cmd.amount_paid != upgrade.charged_amount:
        return "amount"
    return None


def _record_drift(
    uow: SqlUnitOfWork,
    org: Organization,
    upgrade: Upgrade,
    cmd: ConfirmInvoicePaid,
    reason: str,
    deps: Deps,
) -> None:
    PAYMENT_DRIFT.labels(reason).inc()
    log.error(
        "invoice.paid is not the upgrade's own payment: not applied",
        extra={"upgrade_id": upgrade.id, "invoice_id": cmd.invoice_id, "reason": reason},
    )
    uow.drift.record(
        deps.clock.now(),
        kind="payment",
        organization_id=org.id,
        subject=upgrade.id,
        cause=f"invoice.paid {cmd.invoice_id}: {reason}",
        estimate_amount=upgrade.estimate_amount,
        charged_amount=upgrade.charged_amount,
        paid_amount=cmd.amount_paid,
        currency=cmd.currency[:3],
        flagged=True,
        repaired=False,
    )


def _no_longer_paid_for(upgrade: Upgrade) -> bool:
    """Canceled, or replaced by a later upgrade of the same subscription."""
    if upgrade.state == S.CANCELED:
        return True
    last = upgrade.history[-1].cause if upgrade.history else ""
    return upgrade.state == S.EXPIRED and last.startswith("superseded by")


def record_payment_failed(cmd: RecordPaymentFailed, uow: SqlUnitOfWork, deps: Deps) -> str:
    found = _find(uow, cmd.upgrade_id, cmd.invoice_id)
    if found is None:
        return "ignored"
    _, upgrade = found
    if upgrade.state in (S.CHARGING, S.AWAITING_PAYMENT, S.REQUIRES_ACTION):
        upgrade.stripe_invoice_id = upgrade.stripe_invoice_id or cmd.invoice_id
        upgrade.failure_reason = cmd.reason
        upgrade.move(S.PAYMENT_FAILED, deps.clock.now(), f"invoice.payment_failed: {cmd.reason}")
    return "applied"


def record_action_required(cmd: RecordPaymentActionRequired, uow: SqlUnitOfWork, deps: Deps) -> str:
    """`invoice.payment_action_required`: the customer completes 3-D Secure on Stripe's page."""
    found = _find(uow, cmd.upgrade_id, cmd.invoice_id)
    if found is None:
        return "ignored"
    upgrade = found[1]
    if upgrade.state in (S.CHARGING, S.AWAITING_PAYMENT, S.REQUIRES_ACTION):
        upgrade.stripe_invoice_id = upgrade.stripe_invoice_id or cmd.invoice_id
        upgrade.payment_url = cmd.hosted_invoice_url or upgrade.payment_url
        upgrade.move(S.REQUIRES_ACTION, deps.clock.now(), "invoice.payment_action_required")
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
        price = uow.catalog.load().price(upgrade.license_type, upgrade.interval, upgrade.tier)
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
            found = locked_upgrade(uow, upgrade_id)
            if found is None or found[1].state not in UNPAID:
                continue
            upgrade = found[1]
            invoice_id = upgrade.stripe_invoice_id
        try:
            if invoice_id and (
                deps.gateway.void_invoice(upgrade_id=upgrade_id, invoice_id=invoice_id) == "paid"
            ):
                continue  # paid meanwhile: invoice.paid will apply it
        except ChargeUnavailable:
            log.warning("void failed; tried again next run", extra={"upgrade_id": upgrade_id})
            continue
        with uow:
            found = locked_upgrade(uow, upgrade_id)
            if found and found[1].state in UNPAID:
                found[1].move(S.EXPIRED, now, f"unpaid after {deps.unpaid_after}")
                messagebus.commit(uow, deps)
                expired.append(upgrade_id)
    return expired


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
    found = locked_upgrade(uow, upgrade_id)
    if found and found[1].state in (S.CHARGING, *UNPAID):
        upgrade = found[1]
        if upgrade.state == S.CHARGING:
            upgrade.move(S.AWAITING_PAYMENT, deps.clock.now(), "invoice found at Stripe")
        upgrade.move(S.EXPIRED, deps.clock.now(), cause)


__all__ = [
    "charge_upgrade",
    "close_unpaid",
    "confirm_invoice_paid",
    "expire_unpaid",
    "push_upgrade",
    "record_action_required",
    "record_payment_failed",
    "resume_stuck",
]
