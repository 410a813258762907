"""`seatflow dev` and `seatflow send-sample`: run everything here, post a signed sample."""

from __future__ import annotations

import argparse
import os
import sys

import bootstrap
from cli import devserver, samples
from cli.common import Subparsers, command


def dev(args: argparse.Namespace) -> int:
    code = devserver.run(
        bootstrap.runtime().settings, port=args.port, demo=args.demo, api_port=args.api_port
    )
    # The children are gone; tearing down this interpreter's modules took seconds on a busy
    # machine, and Ctrl-C must return the prompt within 5.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def send_sample(args: argparse.Namespace) -> int:
    if args.event_type not in samples.OBJECTS:
        print(
            f"error: no sample of {args.event_type!r}; seatflow acts on, and sends samples "
            f"of: {', '.join(sorted(samples.OBJECTS))}",
            file=sys.stderr,
        )
        return 2
    settings = bootstrap.runtime().settings
    status, body = devserver.send_sample(settings, args.url, args.customer, args.event_type)
    print(f"HTTP {status} {body.strip()}")
    return 0 if status == 200 else 1


def register(sub: Subparsers) -> None:
    run = command(
        sub,
        "dev",
        "run the receiver, the pages and org API, worker and beat on this machine",
        "seatflow dev --demo",
        dev,
    )
    run.add_argument("--port", type=int, default=8000, help="the webhook receiver's port")
    run.add_argument(
        "--api-port", type=int, default=0, help="the pages and org API's port (default: --port + 1)"
    )
    run.add_argument(
        "--demo",
        action="store_true",
        help="create a demo organization and send it a signed sample event",
    )
    sample = command(
        sub,
        "send-sample",
        "post a signed sample event of a type seatflow acts on, as `stripe trigger` does",
        "seatflow send-sample invoice.paid --url http://127.0.0.1:8000/webhooks/stripe",
        send_sample,
    )
    sample.add_argument(
        "event_type",
        nargs="?",
        default="customer.subscription.created",
        metavar="EVENT_TYPE",
        help=f"one of: {', '.join(sorted(samples.OBJECTS))}",
    )
    sample.add_argument("--url", default="http://127.0.0.1:8000/webhooks/stripe")
    sample.add_argument("--customer", default="cus_demo")
