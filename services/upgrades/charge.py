"""The charge step of the upgrade saga, and its retries.

requested → charging (amount recomputed now) → Stripe invoice → awaiting_payment, or
requires_action (3-D Secure on Stripe's hosted page), or payment_failed with Stripe's reason.
Zero → applied at once.

One charge chain per upgrade at a time: a chain claims the upgrade until `retry_at` (a lease
while it talks to Stripe, then the backoff after a transient failure); another chain that
finds the claim held does nothing. A transient failure (network, rate limit, server error) is
retried by the resume job with a growing delay, at most MAX_CHARGE_ATTEMPTS times; a
permanent one (invalid request, authentication) fails the upgrade with its reason at once.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from config.metrics import observe_estimate_drift
from config.tasks import CHARGE_UPGRADE, PUSH_UPGRADE, REFUND_UPGRADE
from domain.commands import RetryPayment
from domain.discounts import Reduction
from domain.errors import (
    DiscountCodeInvalid,
    DomainError,
    EstimateStale,
    InvalidTransition,
    OrganizationNotFound,
    PromotionCodeRefused,
    UpgradeAlreadyOpen,
    UpgradeNotFound,
)
from domain.model import Organization
from domain.payment_methods import InvoiceFact
from domain.ports import ChargeRejected, ChargeResult, ChargeUnavailable, UnitOfWork
from domain.upgrades import (
    MAX_CHARGE_ATTEMPTS,
    STRIPE_UNAVAILABLE,
    FailureKind,
    Upgrade,
    UpgradeState,
    failure_kind,
)
from services import messagebus
from services.deps import Deps
from services.upgrades import promotion
from services.upgrades.steps import (
    apply_paid,
    give_back,
    locked_upgrade,
    log_upgrade,
    member_of,
    surcharge_for,
    upgrade_paid,
)

S = UpgradeState
LEASE = timedelta(minutes=2)
# How long Stripe answers a replayed idempotency key with its stored answer (24 h), less a margin.
REPLAYABLE = timedelta(hours=23)
FIRST_BACKOFF, MAX_BACKOFF = timedelta(seconds=5), timedelta(minutes=10)
# A chain that comes back on time may be a moment early by the clocks' difference.
TOLERANCE = timedelta(seconds=1)


class RetryLater(Exception):
    """Stripe was unavailable: the same chain tries again in `seconds` (the task's countdown)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry in {seconds:.0f} s")
        self.seconds = seconds


def backoff(attempts: int) -> timedelta:
    return min(MAX_BACKOFF, FIRST_BACKOFF * (1 << max(0, attempts - 1)))


def _discount(
    uow: UnitOfWork,
    org: Organization,
    upgrade: Upgrade,
    now: datetime,
    stripe_code: promotion.StripeCode | None,
) -> Reduction | None:
    """The discount the charge takes, the same way the estimate took it."""
    if upgrade.promotion_code_id:  # as Stripe has it now: it may have been refused since
        if stripe_code is None or stripe_code.promotion.id != upgrade.promotion_code_id:
            raise DiscountCodeInvalid(f"Stripe has no promotion code {upgrade.discount_code!r}")
        return stripe_code.usable(now, org.stripe_customer_id)
    # The redemption was reserved at submission: honoured even if the code expired since.
    return uow.catalog.discount(upgrade.discount_code) if upgrade.discount_code else None


def _price(
    uow: UnitOfWork,
    org: Organization,
    upgrade: Upgrade,
    now: datetime,
    stripe_code: promotion.StripeCode | None = None,
) -> None:
    """requested → charging with the amount as of now, or → applied when nothing is due (a
    Stripe promotion code that takes everything still makes its invoice, so that Stripe
    counts the redemption)."""
    sub = org.subscription_for(upgrade.license_type)
    assert sub is not None, "an upgrade exists only for a bought subscription"
    discount = _discount(uow, org, upgrade, now, stripe_code)
    charged = surcharge_for(uow, sub, upgrade.seats, upgrade.interval, discount, now, upgrade.tier)
    upgrade.record_charge(charged.amount.amount, charged.discount.amount)
    observe_estimate_drift(upgrade.drift or 0)
    if charged.amount.amount == 0 and not (upgrade.promotion_code_id and charged.discount.amount):
        reason = "in trial: free" if charged.trial else "nothing to charge"
        apply_paid(uow, org, upgrade, sub.stripe_version, now, reason)
        return
    upgrade.move(S.CHARGING, now, f"amount due {charged.amount}")


def charge_upgrade(upgrade_id: str, uow: UnitOfWork, deps: Deps) -> str:
    """Charge the surcharge. Safe to run again at any point: it resumes where it stopped."""
    try:  # read from Stripe before the locks are taken
        stripe_code = promotion.for_charge(upgrade_id, uow, deps)
    except ChargeUnavailable:
        raise RetryLater(backoff(1).total_seconds()) from None
    except (ChargeRejected, DomainError) as exc:  # Stripe will not say: it cannot be priced
        reason = f"{exc.code}: {exc}" if isinstance(exc, DomainError) else f"{exc.kind}: {exc}"
        with uow:
            return _refuse(upgrade_id, uow, deps, reason)
    now = deps.clock.now()
    with uow:
        found = locked_upgrade(uow, upgrade_id)
        if found is None:
            return "missing"
        org, upgrade = found
        if upgrade.state == S.REQUESTED:
            try:
                _price(uow, org, upgrade, now, stripe_code)
            except DomainError as exc:  # a broken rule does not heal by retrying
                uow.rollback()
                return _refuse(upgrade_id, uow, deps, f"{exc.code}: {exc}")
        if _unsettled(upgrade):
            uow.commit()
            return settle_canceled(upgrade_id, uow, deps)
        if upgrade.state != S.CHARGING:
            messagebus.commit(uow, deps)
            return upgrade.state
        if upgrade.retry_at is not None and upgrade.retry_at > now + TOLERANCE:
            return "busy"  # another chain holds it, or its backoff has not passed
        upgrade.retry_at = now + LEASE
        earlier = uow.upgrades.failed_with_invoice(org.id, upgrade.license_type, upgrade.id)
        customer, amount, attempt = (
            org.stripe_customer_id,
            upgrade.charged_amount,
            upgrade.pay_attempt,
        )
        invoice_id = upgrade.stripe_invoice_id
        card = uow.payment_methods.get(org.id)  # what the pages show as the card on file
        messagebus.commit(uow, deps)
    if not customer or amount is None:
        raise OrganizationNotFound(f"organization {org.id} has no Stripe customer")
    try:
        if _supersede(earlier, upgrade_id, uow, deps):
            return _fail(upgrade_id, uow, deps, "an earlier upgrade was paid meanwhile")
        if invoice_id is None and _keys_forgotten(upgrade, now):
            return _flag_forgotten(upgrade_id, uow, deps)
        if invoice_id is None:
            invoice_id = _draft_invoice(upgrade, customer, deps)
            if _keep_invoice(upgrade_id, invoice_id, uow, deps) != S.CHARGING:
                return settle_canceled(upgrade_id, uow, deps)
        invoice = deps.gateway.finalize_invoice(
            upgrade_id=upgrade.id,
            invoice_id=invoice_id,
            amount=_gross(upgrade),
            currency=upgrade.currency,
            description=_description(upgrade),
        )
        if invoice.total != amount:
            return _not_the_surcharge(upgrade_id, invoice, amount, uow, deps)
        result = deps.gateway.pay_invoice(
            upgrade_id=upgrade.id,
            invoice_id=invoice_id,
            attempt=attempt,
            payment_method_id=card.pay_with() if card else None,
        )
    except PromotionCodeRefused as refusal:
        return _code_refused(upgrade_id, uow, deps, refusal, invoice_id)
    except ChargeUnavailable as exc:
        return _transient(upgrade_id, uow, deps, f"{STRIPE_UNAVAILABLE} ({exc.kind}): {exc}")
    except ChargeRejected as exc:
        return _fail(upgrade_id, uow, deps, f"{exc.kind}: {exc.message}", exc.invoice_id)
    return _record(upgrade_id, result, uow, deps)


def _keys_forgotten(upgrade: Upgrade, now: datetime) -> bool:
    """This charge (since its last start: paying again starts afresh) began long enough ago
    that Stripe no longer replays its keys: making the invoice again would make a second one
    beside any the first attempt left."""
    began = max((t.at for t in upgrade.history if t.to_state == S.CHARGING), default=now)
    return now - began > REPLAYABLE


def _flag_forgotten(upgrade_id: str, uow: UnitOfWork, deps: Deps) -> str:
    """The upgrade fails (its owner may pay again, a fresh start) and a person is asked to
    delete the draft Stripe may hold from the first attempt (whose answer was lost: nothing
    was billed on it, since a line is added only to a recorded draft)."""
    state = _fail(upgrade_id, uow, deps, "Stripe could not be reached for a day; pay again")
    _flag(
        upgrade_id,
        uow,
        deps,
        "its charge could not finish within a day; Stripe may hold an empty draft: delete it",
    )
    return state


def _flag(upgrade_id: str, uow: UnitOfWork, deps: Deps, cause: str) -> None:
    """Ask a person to look at what Stripe holds for this upgrade (a flagged `saga` drift)."""
    with uow:
        upgrade = uow.upgrades.get(upgrade_id)
        assert upgrade is not None
        uow.drift.record(
            deps.clock.now(),
            kind="saga",
            organization_id=upgrade.organization_id,
            subject=upgrade_id,
            cause=cause,
            flagged=True,
            repaired=False,
        )
        uow.commit()


def _unsettled(upgrade: Upgrade) -> bool:
    """Canceled while its charge was under way (the chain's claim, `retry_at`, still held):
    Stripe may hold its invoice, unknown to seatflow (an answer lost on the way back) or not
    yet voided. The claim is kept until the invoice is known voided (or paid, and given back)."""
    return upgrade.state == S.CANCELED and upgrade.retry_at is not None


def settle_canceled(upgrade_id: str, uow: UnitOfWork, deps: Deps) -> str:
    """Learn the invoice a canceled upgrade's charge may have made (the same request again:
    Stripe answers a replayed idempotency key with its stored answer), record it and void it
    (or give back what it took). If Stripe is unavailable meanwhile, the claim stays and the
    resume job comes back to it."""
    with uow:
        found = locked_upgrade(uow, upgrade_id)
        if found is None or not _unsettled(found[1]):
            return found[1].state if found else "missing"
        org, upgrade = found
        customer = org.stripe_customer_id
        invoice_id = upgrade.stripe_invoice_id
        if invoice_id is None and deps.clock.now() - upgrade.updated_at > REPLAYABLE:
            # Stripe no longer replays the charge's keys: a person looks for the invoice.
            uow.drift.record(
                deps.clock.now(),
                kind="saga",
                organization_id=org.id,
                subject=upgrade.id,
                cause="canceled while its draft was made; Stripe may hold it: delete it",
                flagged=True,
                repaired=False,
            )
            upgrade.retry_at = None
            uow.commit()
            return upgrade.state
    try:
        if invoice_id is None and customer:
            with contextlib.suppress(PromotionCodeRefused):  # then Stripe holds no draft
                invoice_id = _draft_invoice(upgrade, customer, deps)
                _keep_invoice(upgrade_id, invoice_id, uow, deps)
        if invoice_id is not None:
            give_back(upgrade_id, invoice_id, uow, deps)
    except ChargeUnavailable:
        _claim(upgrade_id, uow, deps.clock.now() + backoff(1))
        raise RetryLater(backoff(1).total_seconds()) from None
    _claim(upgrade_id, uow, None)
    return _state(upgrade_id, uow)


def _claim(upgrade_id: str, uow: UnitOfWork, until: datetime | None) -> None:
    with uow:
        found = locked_upgrade(uow, upgrade_id)
        assert found is not None
        found[1].retry_at = until
        uow.commit()


def _canceled_unsettled(uow: UnitOfWork, upgrade_id: str) -> bool:
    found = uow.upgrades.get(upgrade_id)
    return found is not None and _unsettled(found)


def _draft_invoice(upgrade: Upgrade, customer: str, deps: Deps) -> str:
    """The upgrade's draft invoice at Stripe, made (or, replaying the same key, found), with
    its Stripe promotion code if it has one."""
    return deps.gateway.draft_invoice(
        upgrade_id=upgrade.id,
        customer_id=customer,
        currency=upgrade.currency,
        description=_description(upgrade),
        metadata={"organization_id": upgrade.organization_id, "upgrade_id": upgrade.id},
        promotion_code=upgrade.promotion_code_id,
    )


def _gross(upgrade: Upgrade) -> int:
    """What the invoice's line bills: the amount charged, or with a Stripe promotion code the
    amount before its discount, which Stripe takes off the invoice."""
    amount = upgrade.invoice_amount
    assert amount is not None, "priced before it is invoiced"
    return amount


def _description(upgrade: Upgrade) -> str:
    tiers = f", {upgrade.from_tier}→{upgrade.tier}" if upgrade.tier != upgrade.from_tier else ""
    return (
        f"Upgrade {upgrade.license_type}: {upgrade.from_seats}→{upgrade.seats} seats, "
        f"{upgrade.from_interval}→{upgrade.interval}{tiers}"
    )


def _keep_invoice(upgrade_id: str, invoice_id: str, uow: UnitOfWork, deps: Deps) -> str:
    """Record the upgrade's invoice before Stripe is asked to pay it: every event of that
    invoice then finds its upgrade, and a cancel voids it. The upgrade's state after."""
    with uow:
        found = locked_upgrade(uow, upgrade_id)
        assert found is not None
        upgrade = found[1]
        upgrade.stripe_invoice_id = upgrade.stripe_invoice_id or invoice_id
        state = upgrade.state
        uow.commit()
    return state


def _not_the_surcharge(
    upgrade_id: str, invoice: InvoiceFact, amount: int, uow: UnitOfWork, deps: Deps
) -> str:
    """The recorded invoice bills something else than the surcharge (a line added in Stripe's
    dashboard, say): it is voided, never paid, and the upgrade fails with the reason. Had
    the customer's balance already paid it, a person is asked to look."""
    reason = (
        f"invoice {invoice.invoice_id} does not bill the surcharge: "
        f"{invoice.total} instead of {amount} {invoice.currency}"
    )
    status = deps.gateway.void_invoice(upgrade_id=upgrade_id, invoice_id=invoice.invoice_id)
    state = _fail(upgrade_id, uow, deps, reason)
    if status == "paid":
        _flag(upgrade_id, uow, deps, f"{reason}; the customer's balance paid it")
    return state


def _refuse(upgrade_id: str, uow: UnitOfWork, deps: Deps, reason: str) -> str:
    """The upgrade cannot be charged as submitted: it fails with the reason (inside `uow`,
    whose failed work was rolled back)."""
    found = locked_upgrade(uow, upgrade_id)
    assert found is not None
    upgrade = found[1]
    if upgrade.state == S.REQUESTED:
        upgrade.move(S.CHARGING, deps.clock.now(), "charging")
        upgrade.failure_reason = reason
        upgrade.move(S.PAYMENT_FAILED, deps.clock.now(), reason)
        uow.commit()
    return upgrade.state


def _code_refused(
    upgrade_id: str,
    uow: UnitOfWork,
    deps: Deps,
    refusal: PromotionCodeRefused,
    invoice_id: str | None,
) -> str:
    """Stripe refused the promotion code the invoice carries: nothing was charged. An
    invoice Stripe left open (the code refused at payment) is voided at once, since paying
    it again cannot succeed (if Stripe is unavailable, the expiry of unpaid upgrades voids
    it); the upgrade fails with the named error."""
    if invoice_id is not None:
        with contextlib.suppress(ChargeUnavailable, ChargeRejected):
            deps.gateway.void_invoice(upgrade_id=upgrade_id, invoice_id=invoice_id)
    return _fail(upgrade_id, uow, deps, f"{refusal.code}: {refusal}", invoice_id)


def _supersede(
    earlier: list[tuple[str, str]], upgrade_id: str, uow: UnitOfWork, deps: Deps
) -> bool:
    """Void the open invoices of earlier failed upgrades of the same subscription, so that
    only one can ever be paid; True if one of them was paid meanwhile."""
    for earlier_id, invoice_id in earlier:
        if deps.gateway.void_invoice(upgrade_id=earlier_id, invoice_id=invoice_id) == "paid":
            return True
        with uow:
            found = locked_upgrade(uow, earlier_id)
            if found and found[1].state == S.PAYMENT_FAILED:
                found[1].move(S.EXPIRED, deps.clock.now(), f"superseded by {upgrade_id}")
                uow.commit()
    return False


def _record(upgrade_id: str, result: ChargeResult, uow: UnitOfWork, deps: Deps) -> str:
    now = deps.clock.now()
    # Paid before seatflow asked: its invoice.paid may have come before seatflow knew the
    # invoice, so Stripe's invoice is read now and verified as that event would be.
    paid = deps.door.invoice(result.invoice_id) if result.already_paid else None
    with uow:
        found = locked_upgrade(uow, upgrade_id)
        assert found is not None
        org, upgrade = found
        upgrade.stripe_invoice_id = upgrade.stripe_invoice_id or result.invoice_id
        if upgrade.state != S.CANCELED:  # a canceled one keeps its claim until settled
            upgrade.retry_at = None
        if result.action_url and upgrade.state in (S.CHARGING, S.PAYMENT_FAILED):
            # Stripe may also have said payment_failed for this attempt: the customer can
            # still complete it on the hosted page.
            upgrade.payment_url = result.action_url
            upgrade.move(S.REQUIRES_ACTION, now, f"3-D Secure: {result.failure}")
        elif upgrade.state == S.CHARGING and result.failure:
            upgrade.failure_reason = result.failure
            upgrade.move(S.PAYMENT_FAILED, now, f"card_error: {result.failure}")
        elif upgrade.state == S.CHARGING:
            upgrade.move(S.AWAITING_PAYMENT, now, f"invoice {result.invoice_id}")
        if paid is not None and upgrade.state == S.AWAITING_PAYMENT:
            upgrade_paid(uow, org, upgrade, paid, int(now.timestamp()), deps)
        state = upgrade.state
        messagebus.commit(uow, deps)
    if state == S.CANCELED:  # canceled while Stripe was charging
        return settle_canceled(upgrade_id, uow, deps)
    log_upgrade("upgrade charged", upgrade, invoice_id=result.invoice_id)
    return state


def _state(upgrade_id: str, uow: UnitOfWork) -> str:
    with uow:
        found = uow.upgrades.get(upgrade_id)
        return found.state if found else "missing"


def _transient(upgrade_id: str, uow: UnitOfWork, deps: Deps, reason: str) -> str:
    """Count the attempt; RetryLater (the chain comes back after the backoff), or it fails."""
    now = deps.clock.now()
    with uow:
        found = locked_upgrade(uow, upgrade_id)
        assert found is not None
        upgrade = found[1]
        if upgrade.state != S.CHARGING:
            return upgrade.state
        upgrade.charge_attempts += 1
        log_upgrade("Stripe unavailable for a charge", upgrade, error=reason)
        if upgrade.charge_attempts >= MAX_CHARGE_ATTEMPTS:
            upgrade.retry_at = None
            upgrade.failure_reason = reason
            upgrade.move(S.PAYMENT_FAILED, now, reason)
        else:
            upgrade.retry_at = now + backoff(upgrade.charge_attempts)
        uow.commit()
        if upgrade.retry_at is None:
            return upgrade.state
        raise RetryLater((upgrade.retry_at - now).total_seconds())


def _fail(
    upgrade_id: str, uow: UnitOfWork, deps: Deps, reason: str, invoice_id: str | None = None
) -> str:
    """A permanent failure: the upgrade ends in payment_failed with the reason."""
    with uow:
        found = locked_upgrade(uow, upgrade_id)
        assert found is not None
        upgrade = found[1]
        upgrade.retry_at = None
        log_upgrade("charge failed", upgrade, error=reason)
        if upgrade.state == S.CHARGING:
            upgrade.stripe_invoice_id = upgrade.stripe_invoice_id or invoice_id
            upgrade.failure_reason = reason
            upgrade.move(S.PAYMENT_FAILED, deps.clock.now(), reason)
        uow.commit()
        return upgrade.state


def retry_payment(cmd: RetryPayment, uow: UnitOfWork, deps: Deps) -> Upgrade:
    """Pay a failed upgrade again: the same invoice, never a second one."""
    with uow:
        org = uow.organizations.locked(cmd.organization_id)
        member = member_of(uow, org, cmd.member_id)
        member.require_upgrader()
        upgrade = uow.upgrades.for_organization(org.id, cmd.upgrade_id)
        if upgrade is None:
            raise UpgradeNotFound(f"no upgrade {cmd.upgrade_id!r}")
        if upgrade.state not in (S.PAYMENT_FAILED, S.REQUIRES_ACTION):
            raise InvalidTransition(f"an upgrade that is {upgrade.state} cannot be paid again")
        _check_still_current(uow, org, upgrade)
        reason = upgrade.failure_reason or ""
        if failure_kind(reason) is FailureKind.RULE:  # the same charge would be refused again
            raise EstimateStale(
                f"this upgrade was refused ({reason.partition(':')[2].strip()}): "
                "request a fresh estimate"
            )
        if upgrade.discount_code and not upgrade.promotion_code_id:
            # A failed upgrade released its redemption of seatflow's own code: take it again.
            discount = uow.catalog.discount(upgrade.discount_code, lock=True)
            if discount is not None:
                discount.check_usable(deps.clock.now(), uow.upgrades.reserved(discount.code))
        upgrade.charge_attempts, upgrade.retry_at = 0, None
        upgrade.move(S.CHARGING, deps.clock.now(), f"paid again by {member.email}")
        uow.enqueue_after_commit(CHARGE_UPGRADE, [upgrade.id])
        uow.commit()
    return upgrade


def _check_still_current(uow: UnitOfWork, org: Organization, upgrade: Upgrade) -> None:
    """Its invoice still prices the subscription as it is, and nothing else is open for it."""
    open_one = uow.upgrades.open_for(org.id, upgrade.license_type)
    if open_one is not None and open_one.id != upgrade.id:
        raise UpgradeAlreadyOpen(f"the {upgrade.license_type} subscription has an open upgrade")
    sub = org.subscription_for(upgrade.license_type)
    if sub is None or sub.terms != upgrade.from_terms:
        raise EstimateStale("the subscription changed since; request a fresh estimate")


def resume_stuck(uow: UnitOfWork, deps: Deps, older_than_seconds: int = 120) -> int:
    """Re-enqueue saga steps whose message was lost: a charge chain that did not come back
    `older_than_seconds` after its claim or backoff ended, an unpushed change, a refund due,
    the invoice of an upgrade canceled while it was charged."""
    now = deps.clock.now()
    with uow:
        rows = uow.upgrades.stuck(now - timedelta(seconds=older_than_seconds))
        for upgrade_id, state in rows:
            task = {S.APPLIED: PUSH_UPGRADE, S.EXPIRED: REFUND_UPGRADE}.get(
                S(state), CHARGE_UPGRADE
            )
            if state == S.CANCELED:
                task = CHARGE_UPGRADE if _canceled_unsettled(uow, upgrade_id) else REFUND_UPGRADE
            uow.enqueue_after_commit(task, [upgrade_id])
        messagebus.commit(uow, deps)
    return len(rows)
