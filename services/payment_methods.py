"""Update the payment method: send the customer to a Stripe-hosted page, then, on the events
that follow, make the new card the default of the customer and of its subscriptions.

Applied in order like every other event: an older event than the card on file is
`skipped_stale`; the echoes of seatflow's own update (customer.updated with the same card,
the setup intent and Checkout events of the same card) change nothing and call Stripe once.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from config.tasks import PUSH_DEFAULT_CARD
from domain.commands import AdoptPaymentMethod
from domain.errors import OrganizationNotFound
from domain.model import ENDED_STATUSES, Member, Organization
from domain.payment_methods import CardOnFile
from domain.ports import UnitOfWork
from services.deps import Deps
from services.ownership import NotOurs, Outcome, owner_of_customer

log = logging.getLogger("seatflow.payment_methods")


def setup_url(
    uow: UnitOfWork,
    deps: Deps,
    member: Member,
    return_url: str,
    cancel_url: str,
    portal: bool = False,
) -> str:
    """Where the owner or an admin enters a new card (Checkout in setup mode or the portal)."""
    member.require_upgrader()
    with uow:
        org = uow.organizations.get(member.organization_id)
    if org is None or not org.stripe_customer_id:
        raise OrganizationNotFound("the organization has no Stripe customer yet")
    return deps.gateway.payment_method_setup_url(
        customer_id=org.stripe_customer_id,
        organization_id=org.id,
        return_url=return_url,
        cancel_url=cancel_url,
        portal=portal,
    )


def card_on_file(uow: UnitOfWork, organization_id: str) -> CardOnFile | None:
    with uow:
        return uow.payment_methods.get(organization_id)


def _subscription_ids(org: Organization) -> list[str]:
    return [
        s.stripe_subscription_id
        for s in org.subscriptions
        if s.stripe_subscription_id and s.status not in ENDED_STATUSES
    ]


def adopt_payment_method(cmd: AdoptPaymentMethod, uow: UnitOfWork, deps: Deps) -> Outcome:
    """Keep the customer's new card as the organization's card on file; Stripe is told to
    make it the default after the commit (`push_default_card`), never under the lock."""
    org = owner_of_customer(uow, cmd.stripe_customer_id)
    if isinstance(org, NotOurs):
        return org
    current = uow.payment_methods.get(org.id)
    if current is not None and cmd.version < current.version:
        return "skipped_stale"
    if cmd.payment_method_id is None:
        return NotOurs("payment_method", "the event names no payment method")
    card = cmd.card
    same = current is not None and current.payment_method_id == cmd.payment_method_id
    if cmd.by_seatflow and current is not None and not same:
        # The answer to seatflow's own push of an older card, landed after a newer card was
        # kept: Stripe's default is that older card now, so it is told the current one again
        # (and until then a charge names the current card itself).
        uow.payment_methods.put(replace(current, default_at_stripe=False))
        uow.enqueue_after_commit(PUSH_DEFAULT_CARD, [org.id])
        return "skipped_stale"
    if current is not None and same and (card is None or card == current.card):
        return "applied"  # already the default: nothing to tell Stripe
    told = same and current is not None and current.default_at_stripe
    uow.payment_methods.put(
        CardOnFile(org.id, cmd.payment_method_id, card, cmd.version, deps.clock.now(), told)
    )
    if not same:
        uow.enqueue_after_commit(PUSH_DEFAULT_CARD, [org.id])
    log.info(
        "default payment method set",
        extra={"organization_id": org.id, "event_id": cmd.event_id},
    )
    return "applied"


def push_default_card(organization_id: str, uow: UnitOfWork, deps: Deps) -> bool:
    """Make the card on file the default of the customer and of its live subscriptions at
    Stripe (the newest card, whatever order the tasks run in); False if there is none."""
    with uow:
        org = uow.organizations.get(organization_id)
        card = uow.payment_methods.get(organization_id)
        if org is None or card is None or not org.stripe_customer_id:
            return False
        customer, subscription_ids = org.stripe_customer_id, _subscription_ids(org)
    deps.gateway.set_default_payment_method(
        customer_id=customer,
        payment_method_id=card.payment_method_id,
        subscription_ids=subscription_ids,
        version=card.version,
    )
    with uow:
        now_on_file = uow.payment_methods.get(organization_id)
        if now_on_file is not None and now_on_file.payment_method_id == card.payment_method_id:
            uow.payment_methods.put(replace(now_on_file, default_at_stripe=True))
            uow.commit()
    return True
