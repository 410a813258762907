"""Update the payment method: send the customer to a Stripe-hosted page, then, on the events
that follow, make the new card the default of the customer and of its subscriptions.

Applied in order like every other event: an older event than the card on file is
`skipped_stale`; the echoes of seatflow's own update (customer.updated with the same card,
the setup intent and Checkout events of the same card) change nothing and call Stripe once.
"""

from __future__ import annotations

import logging

from adapters.payment_method_parsing import card_of
from adapters.unit_of_work import SqlUnitOfWork
from domain.commands import AdoptPaymentMethod
from domain.errors import OrganizationNotFound
from domain.model import Member, Organization
from domain.payment_methods import CardOnFile
from services.deps import Deps

log = logging.getLogger("seatflow.payment_methods")
ENDED = frozenset({"canceled", "incomplete_expired"})


def setup_url(
    uow: SqlUnitOfWork,
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


def card_on_file(uow: SqlUnitOfWork, organization_id: str) -> CardOnFile | None:
    with uow:
        return uow.payment_methods.get(organization_id)


def _payment_method_id(cmd: AdoptPaymentMethod, deps: Deps) -> str | None:
    if cmd.payment_method_id:
        return cmd.payment_method_id
    if not cmd.setup_intent_id:
        return None
    found = deps.gateway.retrieve("setup_intent", cmd.setup_intent_id).get("payment_method")
    if isinstance(found, dict):
        found = found.get("id")
    return str(found) if found else None


def _subscription_ids(org: Organization) -> list[str]:
    return [
        s.stripe_subscription_id
        for s in org.subscriptions
        if s.stripe_subscription_id and s.status not in ENDED
    ]


def adopt_payment_method(cmd: AdoptPaymentMethod, uow: SqlUnitOfWork, deps: Deps) -> str:
    org = uow.organizations.get_by_customer(cmd.stripe_customer_id, lock=True)
    if org is None:
        return "ignored"  # not a customer of seatflow's
    current = uow.payment_methods.get(org.id)
    if current is not None and cmd.version < current.version:
        return "skipped_stale"
    payment_method_id = _payment_method_id(cmd, deps)
    if payment_method_id is None:
        return "ignored"
    card = cmd.card
    if current is not None and current.payment_method_id == payment_method_id:
        if card is None or card == current.card:
            return "applied"  # already the default: nothing to tell Stripe
    else:
        card = card or card_of(deps.gateway.retrieve("payment_method", payment_method_id))
        deps.gateway.set_default_payment_method(
            customer_id=cmd.stripe_customer_id,
            payment_method_id=payment_method_id,
            subscription_ids=_subscription_ids(org),
            version=cmd.version,
        )
    uow.payment_methods.put(
        CardOnFile(org.id, payment_method_id, card, cmd.version, deps.clock.now())
    )
    log.info(
        "default payment method set",
        extra={"organization_id": org.id, "event_id": cmd.event_id},
    )
    return "applied"
