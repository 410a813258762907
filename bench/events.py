"""The events every benchmark sends: full-size `customer.subscription.updated` deliveries.

A seat change as Stripe delivers it (API 2026-07-29): the whole subscription in the shape of
the API's own fixtures (tests/fixtures/stripe/subscription.json and event.json, copies of
the `stripe/openapi` fixtures), with its item carrying the full `price` and `plan`, its
`discounts`, `default_payment_method`, `invoice_settings`, `payment_settings`, metadata,
and `previous_attributes` naming the item as it was. About 4.8 KB, signed; the small
sample events of `cli.samples` (0.8 KB, what `seatflow send-sample` posts) only with
`--small-events`, since they cost the receiver and the worker less than what Stripe sends.

    python -m bench.events [--org 1 --seats 2] [--small-events]   # one event and its size

Organization n is `org_n` with Stripe customer `cus_n` and subscription `sub_n`, as the
benchmarks' databases create them (`bench.pipeline.database`, `bench.burst`).
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
from pathlib import Path
from typing import Any

from cli import samples

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "stripe"
API_VERSION = samples.API_VERSION
PERIOD_START, PERIOD_END = 1_764_547_200, 1_767_225_600  # 2025-12-01 → 2026-01-01 UTC
PRODUCT = "prod_TQ4mZr8uXbW2sK"


@functools.cache
def fixture(name: str) -> dict[str, Any]:
    """One of Stripe's fixtures (API 2026-07-29), as the test suite reads it."""
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def price(license_type: str = "node_locked", interval: str = "month") -> dict[str, Any]:
    """A recurring per-seat price, the fixture's shape; its metadata names the license."""
    out = copy.deepcopy(fixture("price"))
    out |= {
        "id": f"price_{license_type}_{interval}",
        "created": 1_751_328_000,
        "lookup_key": f"{license_type}_{interval}ly",
        "metadata": {"license_type": license_type, "tier": "standard"},
        "nickname": f"{license_type.replace('_', ' ').title()} ({interval}ly)",
        "product": PRODUCT,
        "tax_behavior": "exclusive",
        "transform_quantity": None,
    }
    out["recurring"] |= {"interval": interval}
    return out


def plan(of: dict[str, Any]) -> dict[str, Any]:
    """The legacy `plan` Stripe still sends beside every recurring `price`, mirroring it."""
    recurring = of["recurring"]
    return {
        "id": of["id"],
        "object": "plan",
        "active": of["active"],
        "amount": of["unit_amount"],
        "amount_decimal": of["unit_amount_decimal"],
        "billing_scheme": of["billing_scheme"],
        "created": of["created"],
        "currency": of["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": of["livemode"],
        "metadata": of["metadata"],
        "meter": None,
        "nickname": of["nickname"],
        "product": of["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": recurring["usage_type"],
    }


def item(
    subscription_id: str, seats: int, item_price: dict[str, Any], start: int, end: int
) -> dict[str, Any]:
    """A subscription item in the fixture's shape (API 2025-03-31 on: it carries the period)."""
    out = copy.deepcopy(fixture("subscription")["items"]["data"][0])
    out |= {
        "id": f"si_{subscription_id.removeprefix('sub_')}",
        "billing_thresholds": None,
        "created": PERIOD_START - 86_400 * 40,
        "current_period_start": start,
        "current_period_end": end,
        "metadata": {},
        "plan": plan(item_price),
        "price": item_price,
        "quantity": seats,
        "subscription": subscription_id,
    }
    return out


def subscription(
    org: int,
    seats: int,
    *,
    license_type: str = "node_locked",
    interval: str = "month",
    start: int = PERIOD_START,
    end: int = PERIOD_END,
) -> dict[str, Any]:
    """Organization `org`'s subscription (`sub_<org>` of customer `cus_<org>`), active, with
    `seats` seats: every field of the fixture, with values a live subscription has."""
    sub_id = f"sub_{org}"
    out = copy.deepcopy(fixture("subscription"))
    the_price = price(license_type, interval)
    out |= {
        "id": sub_id,
        "customer": f"cus_{org}",
        "billing_cycle_anchor": start,
        "billing_cycle_anchor_config": None,
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "created": start - 86_400 * 40,
        "default_payment_method": f"pm_1Sb{org:08d}CardVisa4242",
        "description": None,
        "discounts": [f"di_1Sb{org:08d}Annual10"],
        "ended_at": None,
        "items": {
            "object": "list",
            "data": [item(sub_id, seats, the_price, start, end)],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": f"in_1Sb{org:08d}Dec2025Inv",
        "managed_payments": {"enabled": False},
        "metadata": {
            "crm_account": f"acct-{org:06d}",
            "purchase_order": f"PO-2025-{org:05d}",
            "seatflow_plan": f"{license_type}_{interval}ly",
        },
        "next_pending_invoice_item_invoice": None,
        "pause_collection": None,
        "pending_invoice_item_interval": None,
        "pending_update": None,
        "start_date": start - 86_400 * 40,
        "transfer_data": None,
        "trial_end": None,
        "trial_start": None,
    }
    out["automatic_tax"] = {"disabled_reason": None, "enabled": True, "liability": {"type": "self"}}
    out["invoice_settings"] |= {"account_tax_ids": None, "custom_fields": None, "footer": None}
    out["payment_settings"] = {
        "payment_method_options": {
            "card": {"network": None, "request_three_d_secure": "automatic"},
            "customer_balance": None,
        },
        "payment_method_types": ["card"],
        "save_default_payment_method": "on_subscription",
    }
    return out


def subscription_updated(
    org: int, seats: int, created: int, *, small: bool = False, event_id: str | None = None
) -> dict[str, Any]:
    """Organization `org` now has `seats` seats (one more than before), as of `created`."""
    if small:
        obj = samples.subscription_object(
            customer=f"cus_{org}", subscription_id=f"sub_{org}", seats=seats
        )
        return samples.event(
            "customer.subscription.updated", obj, created=created, event_id=event_id
        )
    obj = subscription(org, seats)
    event = copy.deepcopy(fixture("event"))
    # Stripe names the whole item list as it was when an item's quantity changed.
    the_price = obj["items"]["data"][0]["price"]
    was = item(obj["id"], max(1, seats - 1), the_price, PERIOD_START, PERIOD_END)
    base = samples.event("customer.subscription.updated", obj, created=created, event_id=event_id)
    event |= base | {
        "data": {"object": obj, "previous_attributes": {"items": {"data": [was]}}},
        "pending_webhooks": 2,
        "request": {"id": f"req_{base['id'][4:20]}", "idempotency_key": base["id"][4:]},
    }
    return event


def nth(i: int, orgs: int, small: bool = False) -> dict[str, Any]:
    """The i-th event of a run over `orgs` organizations: organization i mod `orgs` + 1,
    its seats one more than at its previous event (each one a real change)."""
    org = i % orgs + 1
    return subscription_updated(org, i // orgs + 1, 1_700_000_000 + i, small=small)


def body(event: dict[str, Any]) -> bytes:
    """The event as Stripe posts it and the inbox stores it (compact JSON), unsigned."""
    return json.dumps(event, separators=(",", ":")).encode()


def add_flag(parser: argparse.ArgumentParser) -> None:
    """The benchmarks' one switch back to the small sample events."""
    parser.add_argument(
        "--small-events",
        action="store_true",
        help="send cli.samples' 0.8 KB events instead of full-size Stripe ones (4.8 KB)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--org", type=int, default=1)
    parser.add_argument("--seats", type=int, default=2)
    add_flag(parser)
    args = parser.parse_args()
    event = subscription_updated(args.org, args.seats, 1_700_000_000, small=args.small_events)
    body, _ = samples.signed(event, "whsec_bench")
    print(json.dumps(event, indent=2))
    print(f"{len(body)} bytes signed (compact JSON, as the benchmarks post it)")


if __name__ == "__main__":
    main()
