"""A stateful fake Stripe for tests: state in memory, an HTTP server the real `stripe` SDK
talks to, and signed webhook deliveries that can be duplicated, held back and reordered.

    state = StripeState()
    customer = state.create_customer("declines")
    with StripeServer(state) as server:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": server.url})
        ...
    Deliverer(state, receiver_url, webhook_secret).deliver(duplicate=1, order="shuffle")
"""

from tests.stripe_model.base import API_VERSION, Clock, LedgerEntry, StripeApiError, add_interval
from tests.stripe_model.delivery import Deliverer, Delivery, signature_header
from tests.stripe_model.protocol import Received
from tests.stripe_model.server import StripeServer
from tests.stripe_model.state import StripeState

__all__ = [
    "API_VERSION",
    "Clock",
    "Deliverer",
    "Delivery",
    "LedgerEntry",
    "Received",
    "StripeApiError",
    "StripeServer",
    "StripeState",
    "add_interval",
    "signature_header",
]
