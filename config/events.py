"""Stripe event types seatflow acts on; every other type is stored and marked `ignored`.

The receiver reads this list to decide whether to enqueue; the workers' handler registry must
cover exactly these types (a test holds them together).
"""

HANDLED_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        # Upgrades are applied on a confirmed payment only: never on invoice.created or
        # invoice.finalized, which are stored and ignored.
        "invoice.paid",
        "invoice.payment_failed",
        # A new card: made the default of the customer and of its subscriptions.
        "checkout.session.completed",
        "setup_intent.succeeded",
        "payment_method.attached",
        "customer.updated",
        # 3-D Secure: the customer completes the payment on Stripe's hosted invoice page.
        "invoice.payment_action_required",
        # Changes at renewal: Stripe's subscription schedules (seatflow's own, and what Stripe
        # or its dashboard did to them).
        "subscription_schedule.created",
        "subscription_schedule.updated",
        "subscription_schedule.released",
        "subscription_schedule.canceled",
        "subscription_schedule.completed",
        "subscription_schedule.aborted",
    }
)


THIN_EVENT_OBJECT = "v2.core.event"


def snapshot_type(event_type: str) -> str:
    """A thin event for a v1 resource is named `v1.<snapshot type>`."""
    return event_type.removeprefix("v1.")


def is_handled(event_type: str) -> bool:
    return snapshot_type(event_type) in HANDLED_EVENT_TYPES


# The Stripe API version whose event shapes seatflow parses: its webhook endpoint is created
# with it (`seatflow stripe setup-webhook`), so Stripe renders every event in this version.
STRIPE_API_VERSION = "2026-07-29.dahlia"
