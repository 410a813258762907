"""The one door through which Stripe's events and objects come in.

A stored event's payload becomes a typed command here, with every Stripe read it needs done
first (a thin event's object, a verified object, the setup intent a Checkout session names,
the card a payment method is): the services apply the command inside their transaction and
never call Stripe while they hold its row locks. What seatflow cannot represent, or what
contradicts itself (a setup intent of another customer), is refused with a named reason.
Every other read (an invoice, a subscription, a schedule, Stripe's listings) is typed here
too: the services see only `domain.ports.StripeDoor`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, Protocol

from adapters import catalog_parsing
from adapters.payment_method_parsing import card_of
from adapters.schedule_parsing import UnrepresentableSchedule, schedule_fact
from adapters.stripe_parsing import (
    Unrepresentable,
    invoice_fact,
    resolve,
    subscription_snapshot,
    to_command,
)
from domain.admission import Admitted, ListedEvent, ListedSubscription
from domain.commands import AdoptPaymentMethod
from domain.model import SubscriptionSnapshot
from domain.payment_methods import InvoiceFact
from domain.renewal import ScheduleFact, SyncSchedule
from inbox.events import IncomingEvent, load_payload
from inbox.origin import Origin

Fetch = Callable[[str, str], dict[str, Any]]


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def _card_command(cmd: AdoptPaymentMethod, fetch: Fetch) -> Admitted:
    """The card event's payment method and card, read now; refused if Stripe's objects name
    another customer than the event does."""
    payment_method_id = cmd.payment_method_id
    if payment_method_id is None and cmd.setup_intent_id:
        intent = fetch("setup_intent", cmd.setup_intent_id)
        owner = _id(intent.get("customer"))
        if owner is not None and owner != cmd.stripe_customer_id:
            return Admitted(refused="the setup intent belongs to another customer")
        payment_method_id = _id(intent.get("payment_method"))
        if payment_method_id is None:
            return Admitted(refused="the setup intent has no payment method")
    card = cmd.card
    if card is None and payment_method_id:
        payment_method = fetch("payment_method", payment_method_id)
        owner = _id(payment_method.get("customer"))
        if owner is not None and owner != cmd.stripe_customer_id:
            return Admitted(refused="the payment method belongs to another customer")
        card = card_of(payment_method)
    return Admitted(replace(cmd, payment_method_id=payment_method_id, card=card))


def admit(payload: str, fetch: Fetch, verify_by_fetch: bool, origin: Origin) -> Admitted:
    """The command a stored event's payload asks for, every Stripe read done; refused if
    the event is of another Stripe mode or account, or seatflow cannot represent it."""
    data = load_payload(payload)
    refused = origin.refuses(IncomingEvent.from_dict(data))
    if refused is not None:
        return Admitted(refused=refused)
    try:
        command = to_command(resolve(data, fetch, verify_by_fetch))
    except Unrepresentable as exc:
        return Admitted(refused=str(exc))
    if isinstance(command, AdoptPaymentMethod):
        return _card_command(command, fetch)
    if isinstance(command, SyncSchedule):
        return _schedule_command(command, fetch)
    return Admitted(command)


def _schedule_command(cmd: SyncSchedule, fetch: Fetch) -> Admitted:
    """A schedule event carries the schedule as it was; its events of one second (made,
    then given its phases) cannot be told apart, so the schedule is read as it is now."""
    try:
        current = schedule_fact(fetch("subscription_schedule", cmd.schedule.schedule_id))
    except UnrepresentableSchedule as exc:
        return Admitted(refused=str(exc))
    return Admitted(replace(cmd, schedule=current))


class _WouldRead(Exception):
    """Admitting the event would read Stripe."""


def _no_reads(object_type: str, object_id: str) -> dict[str, Any]:
    raise _WouldRead(f"{object_type} {object_id}")


class StripeApi(Protocol):
    """Stripe's raw answers, as the gateway gives them (dicts): only this module reads them."""

    def retrieve(self, object_type: str, object_id: str) -> dict[str, Any]: ...

    def list_subscriptions(
        self, *, customer: str | None = None, page_size: int = 100
    ) -> Iterator[list[dict[str, Any]]]: ...

    def list_events(
        self,
        *,
        created_gte: int | None = None,
        delivery_success: bool | None = None,
        page_size: int = 100,
    ) -> Iterator[list[dict[str, Any]]]: ...

    def list_prices(self, *, page_size: int = 100) -> Iterator[list[dict[str, Any]]]: ...


class StripeReads:
    """`domain.ports.StripeDoor` over the gateway's raw reads: `origin` is the Stripe mode
    and account whose events are applied; with `verify_by_fetch`, each event's object is
    re-read from Stripe (a leaked signing secret then cannot forge state)."""

    def __init__(self, api: StripeApi, origin: Origin, verify_by_fetch: bool = False) -> None:
        self.api = api
        self.origin = origin
        self.verify_by_fetch = verify_by_fetch

    def admit(self, payload: str) -> Admitted:
        return admit(payload, self.api.retrieve, self.verify_by_fetch, self.origin)

    def admit_without_reads(self, payload: str) -> Admitted | None:
        if self.verify_by_fetch:
            return None
        try:
            return admit(payload, _no_reads, False, self.origin)
        except _WouldRead:
            return None

    def subscription(self, subscription_id: str, version: int) -> SubscriptionSnapshot:
        return subscription_snapshot(self.api.retrieve("subscription", subscription_id), version)

    def invoice(self, invoice_id: str) -> InvoiceFact:
        return invoice_fact(self.api.retrieve("invoice", invoice_id))

    def schedule(self, schedule_id: str) -> ScheduleFact | None:
        try:
            return schedule_fact(self.api.retrieve("subscription_schedule", schedule_id))
        except UnrepresentableSchedule:
            return None

    def subscriptions(
        self, *, customer: str | None, version: int
    ) -> Iterator[list[ListedSubscription]]:
        for page in self.api.list_subscriptions(customer=customer):
            yield [_listed(item, version) for item in page]

    def events(
        self, *, created_gte: int | None = None, delivery_success: bool | None = None
    ) -> Iterator[list[ListedEvent]]:
        pages = self.api.list_events(created_gte=created_gte, delivery_success=delivery_success)
        for page in pages:
            yield [ListedEvent(str(event["id"]), json.dumps(event)) for event in page]

    def catalog_entries(self) -> list[dict[str, Any]]:
        return catalog_parsing.catalog_entries(self.api.list_prices())


def _listed(item: dict[str, Any], version: int) -> ListedSubscription:
    try:
        snapshot, refused = subscription_snapshot(item, version), None
    except Unrepresentable as exc:
        snapshot, refused = None, str(exc)
    return ListedSubscription(
        id=str(item["id"]),
        customer_id=_id(item.get("customer")),
        status=str(item.get("status") or ""),
        snapshot=snapshot,
        refused=refused,
    )
