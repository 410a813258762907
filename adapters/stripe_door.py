"""The one door through which Stripe's events and objects come in.

A stored event's payload becomes a typed command here, with every Stripe read it needs done
first (a thin event's object, a verified object, the setup intent a Checkout session names,
the card a payment method is): the services apply the command inside their transaction and
never call Stripe while they hold its row locks. What seatflow cannot represent, or what
contradicts itself (a setup intent of another customer), is refused with a named reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

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
from domain.commands import (
    AdoptPaymentMethod,
    Command,
    ConfirmInvoicePaid,
    RecordPaymentActionRequired,
    RecordPaymentFailed,
    SyncSubscription,
)
from domain.model import SubscriptionSnapshot
from domain.payment_methods import InvoiceFact
from domain.renewal import ScheduleFact, SyncSchedule
from inbox.events import IncomingEvent, load_payload
from inbox.origin import Origin

Fetch = Callable[[str, str], dict[str, Any]]


@dataclass(frozen=True)
class Admitted:
    """What an event asks for (None: a type seatflow does not act on), or why it is refused."""

    command: Command | None = None
    refused: str | None = None


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


def fetch_snapshot(fetch: Fetch, subscription_id: str, version: int) -> SubscriptionSnapshot:
    """Stripe's current state of a subscription, as a snapshot of `version`."""
    return subscription_snapshot(fetch("subscription", subscription_id), version)


def fetch_invoice(fetch: Fetch, invoice_id: str) -> InvoiceFact:
    """Stripe's current state of an invoice."""
    return invoice_fact(fetch("invoice", invoice_id))


def fetch_schedule(fetch: Fetch, schedule_id: str) -> ScheduleFact | None:
    """Stripe's current state of a subscription schedule; None if seatflow cannot represent
    it (a phase of several prices)."""
    try:
        return schedule_fact(fetch("subscription_schedule", schedule_id))
    except UnrepresentableSchedule:
        return None


def customer_of(command: Command | None) -> str | None:
    """The Stripe customer a command's object names (whose organization it may touch)."""
    if isinstance(command, SyncSubscription | AdoptPaymentMethod):
        return command.stripe_customer_id
    if isinstance(command, SyncSchedule):
        return command.schedule.customer_id
    if isinstance(command, ConfirmInvoicePaid | RecordPaymentFailed | RecordPaymentActionRequired):
        return command.invoice.customer_id
    return None


def catalog_entries_of(pages: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The catalog entries of Stripe's prices (`seatflow catalog import --from-stripe`)."""
    return catalog_parsing.catalog_entries(pages)


@dataclass(frozen=True)
class ListedSubscription:
    """A subscription Stripe listed: whose it is, its status, and its snapshot (None, with
    the reason, when seatflow cannot represent it)."""

    id: str
    customer_id: str | None
    status: str
    snapshot: SubscriptionSnapshot | None
    refused: str | None = None


def listed_subscriptions(
    pages: Iterable[list[dict[str, Any]]], version: int
) -> Iterator[list[ListedSubscription]]:
    """Stripe's pages of subscriptions (reconciliation), each item typed."""
    for page in pages:
        yield [_listed(item, version) for item in page]


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
