"""Stripe event → command. Knows the shapes of Stripe objects; knows no business rule.

Since API 2025-03-31 the billing period lives on each subscription item; older versions
carry it on the subscription. Both are read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from adapters import payment_method_parsing, schedule_parsing
from config.events import THIN_EVENT_OBJECT, snapshot_type
from domain.catalog import DEFAULT_TIER
from domain.commands import (
    AdoptPaymentMethod,
    Command,
    ConfirmInvoicePaid,
    RecordPaymentActionRequired,
    RecordPaymentFailed,
    SyncSubscription,
)
from domain.errors import UnknownCurrency
from domain.model import Interval, SubscriptionSnapshot
from domain.money import exponent
from domain.payment_methods import InvoiceFact
from domain.renewal import SyncSchedule


class Unrepresentable(ValueError):
    """A Stripe object seatflow cannot represent (e.g. a price billed every 3 months): the
    event is stored `ignored` with this reason, never applied as something else."""


def _ts(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


def _first_item(subscription: dict[str, Any]) -> dict[str, Any]:
    items = (subscription.get("items") or {}).get("data") or []
    return items[0] if items else {}


def _license_type(subscription: dict[str, Any], price: dict[str, Any]) -> str:
    """From metadata; empty when only the catalog (by price id) can tell."""
    for source in (price.get("metadata"), subscription.get("metadata")):
        if isinstance(source, dict) and source.get("license_type"):
            return str(source["license_type"])
    return ""


def _tier(price: dict[str, Any]) -> str:
    """From the price's metadata; the catalog (by price id) is asked first by the services."""
    metadata = price.get("metadata")
    found = metadata.get("tier") if isinstance(metadata, dict) else None
    return str(found) if found else DEFAULT_TIER


# The metadata seatflow writes with a monthly → annual switch (adapters/stripe_gateway.py) and
# reads back here: the prepaid cycle's end (the trial's end Stripe was given) and its start.
PREPAID_UNTIL, CYCLE_START = "seatflow_prepaid_until", "seatflow_cycle_start"


def _paid_period(subscription: dict[str, Any]) -> tuple[str, int | None]:
    """A `trialing` status that seatflow set to carry a prepaid annual cycle is `active`.

    See adapters/stripe_gateway.py: after a monthly → annual switch the Stripe subscription
    is in a trial that ends at the paid cycle's end; the cycle itself started earlier.
    """
    status = str(subscription.get("status") or "active")
    metadata = subscription.get("metadata") or {}
    prepaid = metadata.get(PREPAID_UNTIL)
    if status == "trialing" and prepaid and str(subscription.get("trial_end")) == prepaid:
        start = metadata.get(CYCLE_START)
        return "active", int(start) if start else None
    return status, None


def _interval(price: dict[str, Any]) -> Interval:
    """Monthly or yearly, billed every one of them; anything else is refused by name."""
    recurring = price.get("recurring") or {}
    interval = recurring.get("interval") or price.get("interval") or ""
    count = int(recurring.get("interval_count") or price.get("interval_count") or 1)
    if count != 1 or interval not in ("month", "year"):
        raise Unrepresentable(
            f"price {price.get('id')!r} is billed every {count} {interval}(s): seatflow "
            "represents monthly and yearly prices only"
        )
    return Interval.parse(interval)


def _known_currency(obj: dict[str, Any], what: str) -> str:
    """The object's currency, if seatflow knows its minor unit; anything else is refused by
    name, never read with a guessed exponent."""
    currency = str(obj.get("currency") or "")
    if currency:
        try:
            exponent(currency)
        except UnknownCurrency:
            raise Unrepresentable(
                f"{what} {obj.get('id')!r} is in {currency!r}, a currency whose minor unit "
                "seatflow does not know"
            ) from None
    return currency


def subscription_snapshot(subscription: dict[str, Any], version: int) -> SubscriptionSnapshot:
    item = _first_item(subscription)
    price = item.get("price") or item.get("plan") or subscription.get("plan") or {}
    _known_currency(price, "price")
    status, paid_cycle_start = _paid_period(subscription)
    start = (
        paid_cycle_start
        or item.get("current_period_start")
        or subscription.get("current_period_start")
    )
    end = item.get("current_period_end") or subscription.get("current_period_end")
    return SubscriptionSnapshot(
        stripe_subscription_id=subscription["id"],
        stripe_item_id=item.get("id"),
        stripe_price_id=price.get("id"),
        license_type=_license_type(subscription, price),
        seats=int(item.get("quantity") or subscription.get("quantity") or 0),
        interval=_interval(price),
        status=status,
        current_period_start=_ts(start),
        current_period_end=_ts(end),
        version=version,
        tier=_tier(price),
    )


def _sync_subscription(event: dict[str, Any]) -> Command:
    subscription = event["data"]["object"]
    customer = subscription.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return SyncSubscription(
        snapshot=subscription_snapshot(subscription, int(event["created"])),
        stripe_customer_id=customer,
        event_id=str(event.get("id", "")),
    )


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    """Since API 2025-03-31 the subscription is under `parent.subscription_details`."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    found = details.get("subscription") or invoice.get("subscription")
    if isinstance(found, dict):
        found = found.get("id")
    return str(found) if found else None


def _line_period(invoice: dict[str, Any]) -> tuple[int | None, int | None]:
    lines = (invoice.get("lines") or {}).get("data") or []
    period = (lines[0].get("period") or {}) if lines else {}
    start, end = period.get("start"), period.get("end")
    return (int(start) if start else None), (int(end) if end else None)


def _line_terms(invoice: dict[str, Any]) -> tuple[str | None, int | None]:
    """The first line's price (`pricing.price_details.price` since 2025-03-31, `price`
    before) and quantity."""
    lines = (invoice.get("lines") or {}).get("data") or []
    if not lines:
        return None, None
    line = lines[0]
    details = (line.get("pricing") or {}).get("price_details") or {}
    price = details.get("price") or line.get("price")
    if isinstance(price, dict):
        price = price.get("id")
    quantity = line.get("quantity")
    return (str(price) if price else None), (int(quantity) if quantity is not None else None)


def invoice_fact(invoice: dict[str, Any]) -> InvoiceFact:
    """An invoice as seatflow knows it; its metadata is never read (anyone with dashboard
    access can write it)."""
    start, end = _line_period(invoice)
    customer = invoice.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    paid_at = (invoice.get("status_transitions") or {}).get("paid_at")
    total = invoice.get("total")
    line_price, line_quantity = _line_terms(invoice)
    return InvoiceFact(
        invoice_id=str(invoice["id"]),
        customer_id=str(customer) if customer else None,
        status=str(invoice.get("status") or ""),
        total=int(total if total is not None else invoice.get("amount_due") or 0),
        amount_paid=int(invoice.get("amount_paid") or 0),
        currency=_known_currency(invoice, "invoice"),
        livemode=bool(invoice.get("livemode", False)),
        subscription_id=_invoice_subscription(invoice),
        billing_reason=invoice.get("billing_reason"),
        period_start=start,
        period_end=end,
        hosted_invoice_url=invoice.get("hosted_invoice_url"),
        number=invoice.get("number"),
        paid_at=_ts(paid_at) if paid_at else None,
        invoice_pdf=invoice.get("invoice_pdf"),
        line_price_id=line_price,
        line_quantity=line_quantity,
    )


def _invoice(event: dict[str, Any]) -> InvoiceFact:
    invoice = event["data"]["object"]
    if "livemode" not in invoice and "livemode" in event:
        invoice = {**invoice, "livemode": event["livemode"]}
    return invoice_fact(invoice)


def _invoice_paid(event: dict[str, Any]) -> Command:
    return ConfirmInvoicePaid(invoice=_invoice(event), version=int(event["created"]))


def _invoice_payment_failed(event: dict[str, Any]) -> Command:
    invoice = event["data"]["object"]
    error = invoice.get("last_finalization_error") or {}
    reason = error.get("message") or f"payment failed (attempt {invoice.get('attempt_count', 1)})"
    return RecordPaymentFailed(invoice=_invoice(event), reason=str(reason))


def _invoice_action_required(event: dict[str, Any]) -> Command:
    return RecordPaymentActionRequired(invoice=_invoice(event))


def _sync_schedule(event: dict[str, Any]) -> Command:
    try:
        return schedule_parsing.sync_schedule(event)
    except schedule_parsing.UnrepresentableSchedule as exc:
        raise Unrepresentable(str(exc)) from None


Parser = Callable[[dict[str, Any]], Command | None]
pm = payment_method_parsing
# The one list of the Stripe event types seatflow acts on: each type's parser and the command
# it makes. The receiver's list (config/events.py) must name the same types and the services
# must register a handler for each command (services/stripe_events.HANDLERS): tests hold the
# three together.
EVENTS: dict[str, tuple[Parser, type[Command]]] = {
    "customer.subscription.created": (_sync_subscription, SyncSubscription),
    "customer.subscription.updated": (_sync_subscription, SyncSubscription),
    "customer.subscription.deleted": (_sync_subscription, SyncSubscription),
    "invoice.paid": (_invoice_paid, ConfirmInvoicePaid),
    "invoice.payment_failed": (_invoice_payment_failed, RecordPaymentFailed),
    "invoice.payment_action_required": (_invoice_action_required, RecordPaymentActionRequired),
    "checkout.session.completed": (pm.checkout_completed, AdoptPaymentMethod),
    "setup_intent.succeeded": (pm.setup_intent_succeeded, AdoptPaymentMethod),
    "payment_method.attached": (pm.payment_method_attached, AdoptPaymentMethod),
    "customer.updated": (pm.customer_updated, AdoptPaymentMethod),
    # Changes at renewal: the schedule seatflow made, and what Stripe or its dashboard did to it.
    **{
        f"subscription_schedule.{action}": (_sync_schedule, SyncSchedule)
        for action in ("created", "updated", "released", "canceled", "completed", "aborted")
    },
}
MAPPERS: dict[str, Parser] = {name: parser for name, (parser, _) in EVENTS.items()}


def to_command(event: dict[str, Any]) -> Command | None:
    """The command an event asks for, or None for types seatflow does not act on."""
    mapper = MAPPERS.get(event.get("type", ""))
    return mapper(event) if mapper else None


FETCHABLE = {
    "customer.subscription": "subscription",
    "invoice": "invoice",
    "checkout.session": "checkout_session",
    "setup_intent": "setup_intent",
    "payment_method": "payment_method",
    "customer": "customer",
    "subscription_schedule": "subscription_schedule",
}


def object_type_of(event_type: str) -> str | None:
    """`subscription` for customer.subscription.*, `invoice` for invoice.*; else None."""
    prefix = event_type.rsplit(".", 1)[0]
    return FETCHABLE.get(prefix)


def resolve(
    event: dict[str, Any], fetch: Callable[[str, str], dict[str, Any]], verify_by_fetch: bool
) -> dict[str, Any]:
    """A snapshot event to act on. A thin event's object is fetched from Stripe; with
    `verify_by_fetch`, a snapshot event's object is replaced by Stripe's current one."""
    if event.get("object") == THIN_EVENT_OBJECT:
        related = event["related_object"]
        event_type = snapshot_type(str(event["type"]))
        created = int(
            datetime.fromisoformat(str(event["created"]).replace("Z", "+00:00")).timestamp()
        )
        fetched = fetch(str(related.get("type")), str(related["id"]))
        return {
            "id": event["id"],
            "object": "event",
            "type": event_type,
            "created": created,
            "data": {"object": fetched},
        }
    object_type = object_type_of(str(event.get("type", "")))
    if verify_by_fetch and object_type:
        fresh = fetch(object_type, str(event["data"]["object"]["id"]))
        return {**event, "data": {**event["data"], "object": fresh}}
    return event
