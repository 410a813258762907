"""The payment half of the upgrade saga (the charge step is in `services.upgrade_charge`).

confirm:  `invoice.paid` → paid → applied (subscription, ledger), then the Stripe
          subscription is updated by a separate task, so a Stripe hiccup never delays what
          the customer paid for. A payment for an upgrade that is no longer the one being
          paid (canceled, or superseded by a later one) is refunded and recorded.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from domain.commands import ConfirmInvoicePaid, RecordPaymentActionRequired, RecordPaymentFailed
from domain.model import Organization, Subscription
from domain.payment_methods import InvoiceFact
from domain.ports import ChargeUnavailable, SubscriptionChange, UnitOfWork
from domain.upgrades import UNPAID_STATES, Upgrade, UpgradeState
from services import messagebus
from services.deps import Deps
from services.ownership import NotOurs, Outcome, owner_of_invoice
from services.upgrades import renewal, renewal_sync
from services.upgrades.steps import locked_upgrade, upgrade_paid

log = logging.getLogger("seatflow.upgrades")
S = UpgradeState
UNPAID = UNPAID_STATES


def confirm_invoice_paid(cmd: ConfirmInvoicePaid, uow: UnitOfWork, deps: Deps) -> Outcome:
    """`invoice.paid`: the only cause that applies an upgrade that costs money, and only for
    the invoice seatflow recorded for it, paid in full for its exact total, in its currency
    and mode. The receipt is kept only for such a payment."""
    owner = owner_of_invoice(uow, cmd.invoice)
    if isinstance(owner, NotOurs):
        return owner
    if owner.upgrade is None:
        return _renewal_paid(cmd, uow, owner.organization, owner.subscription, deps)
    return upgrade_paid(uow, owner.organization, owner.upgrade, cmd.invoice, cmd.version, deps)


def _unpaid_upgrade(uow: UnitOfWork, invoice: InvoiceFact) -> Upgrade | NotOurs:
    owner = owner_of_invoice(uow, invoice)
    if isinstance(owner, NotOurs):
        return owner
    if owner.upgrade is None:
        return NotOurs("invoice", "a subscription's invoice: Stripe collects it")
    return owner.upgrade


def record_payment_failed(cmd: RecordPaymentFailed, uow: UnitOfWork, deps: Deps) -> Outcome:
    upgrade = _unpaid_upgrade(uow, cmd.invoice)
    if isinstance(upgrade, NotOurs):
        return upgrade
    if upgrade.state in (S.CHARGING, S.AWAITING_PAYMENT):
        upgrade.failure_reason = cmd.reason
        upgrade.move(S.PAYMENT_FAILED, deps.clock.now(), f"invoice.payment_failed: {cmd.reason}")
    # requires_action stays: the customer can still complete the payment on Stripe's page.
    return "applied"


def record_action_required(
    cmd: RecordPaymentActionRequired, uow: UnitOfWork, deps: Deps
) -> Outcome:
    """`invoice.payment_action_required`: the customer completes 3-D Secure on Stripe's page."""
    upgrade = _unpaid_upgrade(uow, cmd.invoice)
    if isinstance(upgrade, NotOurs):
        return upgrade
    if upgrade.state in (S.CHARGING, *UNPAID):
        upgrade.payment_url = cmd.invoice.hosted_invoice_url or upgrade.payment_url
        upgrade.move(S.REQUIRES_ACTION, deps.clock.now(), "invoice.payment_action_required")
    return "applied"


def push_upgrade(upgrade_id: str, uow: UnitOfWork, deps: Deps) -> bool:
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
    # A change the upgrade canceled: Stripe's schedule goes first, or its renewal would put
    # the change's terms back.
    renewal.release_superseded(upgrade.organization_id, upgrade.license_type, uow, deps)
    deps.gateway.update_subscription(change)
    with uow:
        upgrade = uow.upgrades.get(upgrade_id, lock=True)
        assert upgrade is not None
        upgrade.stripe_synced_at = deps.clock.now()
        messagebus.commit(uow, deps)
    return True


def expire_unpaid(uow: UnitOfWork, deps: Deps) -> list[str]:
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


def _renewal_paid(
    cmd: ConfirmInvoicePaid,
    uow: UnitOfWork,
    org: Organization,
    sub: Subscription | None,
    deps: Deps,
) -> Outcome:
    """A paid subscription cycle: the period moves on and the license is re-issued."""
    invoice = cmd.invoice
    if invoice.billing_reason != "subscription_cycle" or sub is None:
        return NotOurs("invoice", f"a subscription invoice ({invoice.billing_reason})")
    start, end = (
        (
            datetime.fromtimestamp(invoice.period_start, UTC),
            datetime.fromtimestamp(invoice.period_end, UTC),
        )
        if invoice.period_start and invoice.period_end
        else (None, None)
    )
    renewal_sync.on_renewal_invoice(uow, org, sub, invoice, cmd.version, deps.clock.now())
    org.renew(sub, start, end, invoice.invoice_id)
    return "applied"


def close_unpaid(uow: UnitOfWork, upgrade_id: str, cause: str, deps: Deps) -> None:
    """Stripe says the invoice will never be paid: the upgrade expires (inside `uow`)."""
    found = locked_upgrade(uow, upgrade_id)
    if found and found[1].state in (S.CHARGING, *UNPAID):
        upgrade = found[1]
        if upgrade.state == S.CHARGING:
            upgrade.move(S.AWAITING_PAYMENT, deps.clock.now(), "invoice found at Stripe")
        upgrade.move(S.EXPIRED, deps.clock.now(), cause)
