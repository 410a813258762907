"""`seatflow stripe`: onboarding with Stripe (the webhook endpoint seatflow needs)."""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit

import bootstrap
from cli.common import Subparsers, command, group
from config.events import STRIPE_API_VERSION
from services import operations

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def callable_url(url: str) -> bool:
    """A URL Stripe can send events to: absolute https://, or http:// for this machine."""
    parts = urlsplit(url)
    try:
        host = parts.hostname
        parts.port  # noqa: B018  (a malformed port raises)
    except ValueError:
        return False
    if not host:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host in LOCAL_HOSTS)


def setup_webhook(args: argparse.Namespace) -> int:
    if not callable_url(args.url):
        print(
            f"error: {args.url!r} is not a URL Stripe can send events to: give an absolute "
            "https:// URL (http:// only for localhost)",
            file=sys.stderr,
        )
        return 2
    done = operations.setup_webhook(bootstrap.runtime().gateway, args.url)
    if done.created:
        print(f"created webhook endpoint {done.endpoint_id} for {args.url}")
        print(f"signing secret (Stripe shows it only now): {done.secret}")
        print("put it into STRIPE_WEBHOOK_SECRETS (comma-separated with any current one)")
    else:
        print(f"updated webhook endpoint {done.endpoint_id} for {args.url}: event types set")
        print("its signing secret stays as it was. To roll it: Stripe Dashboard → Developers")
        print("→ Webhooks → the endpoint → Roll secret (keep the old one valid for a while),")
        print("add the new whsec_… to STRIPE_WEBHOOK_SECRETS beside the old one, restart,")
        print("and drop the old one once it has expired.")
    if done.api_version != STRIPE_API_VERSION:
        print(
            f"warning: the endpoint renders events in API version {done.api_version}, "
            f"seatflow expects {STRIPE_API_VERSION}; Stripe cannot change an endpoint's "
            "version: delete it and run this command again"
        )
    return 0


def register(sub: Subparsers) -> None:
    stripe = group(sub, "stripe", "onboarding with Stripe")
    setup = command(
        stripe,
        "setup-webhook",
        "create or update the webhook endpoint for URL with the event types seatflow handles",
        "seatflow stripe setup-webhook https://billing.example.com/webhooks/stripe",
        setup_webhook,
    )
    setup.add_argument("url", help="the receiver's public URL, ending in /webhooks/stripe")
