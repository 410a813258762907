"""What the door to Stripe makes of what Stripe says: a command (or nothing), or a refusal
with its reason, and the values of Stripe's listings that reconciliation walks."""

from __future__ import annotations

from dataclasses import dataclass

from domain.commands import (
    AdoptPaymentMethod,
    Command,
    ConfirmInvoicePaid,
    RecordPaymentActionRequired,
    RecordPaymentFailed,
    SyncSubscription,
)
from domain.model import SubscriptionSnapshot
from domain.renewal import SyncSchedule


@dataclass(frozen=True)
class Admitted:
    """What an event asks for (None: a type seatflow does not act on), or why it is refused."""

    command: Command | None = None
    refused: str | None = None


def customer_of(command: Command | None) -> str | None:
    """The Stripe customer a command's object names (whose organization it may touch)."""
    if isinstance(command, SyncSubscription | AdoptPaymentMethod):
        return command.stripe_customer_id
    if isinstance(command, SyncSchedule):
        return command.schedule.customer_id
    if isinstance(command, ConfirmInvoicePaid | RecordPaymentFailed | RecordPaymentActionRequired):
        return command.invoice.customer_id
    return None


@dataclass(frozen=True)
class ListedSubscription:
    """A subscription Stripe listed: whose it is, its status, and its snapshot (None, with
    the reason, when seatflow cannot represent it)."""

    id: str
    customer_id: str | None
    status: str
    snapshot: SubscriptionSnapshot | None
    refused: str | None = None


@dataclass(frozen=True)
class ListedEvent:
    """An event Stripe listed (one it failed to deliver, or one newer than the newest seen):
    its id and its JSON text, to be stored as if it had been delivered."""

    event_id: str
    payload: str
