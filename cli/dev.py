"""`seatflow dev` and `seatflow send-sample`: run everything here, post a signed sample."""

from __future__ import annotations

import argparse

from cli import devserver
from cli.common import Subparsers, command
from services import bootstrap


def dev(args: argparse.Namespace) -> int:
    return devserver.run(bootstrap.settings(), port=args.port, demo=args.demo)


def send_sample(args: argparse.Namespace) -> int:
    status, body = devserver.send_sample(bootstrap.settings(), args.url, args.customer)
    print(f"HTTP {status} {body.strip()}")
    return 0 if status == 200 else 1


def register(sub: Subparsers) -> None:
    run = command(sub, "dev", "run web + worker + beat on this machine", "seatflow dev --demo", dev)
    run.add_argument("--port", type=int, default=8000)
    run.add_argument(
        "--demo",
        action="store_true",
        help="create a demo organization and send it a signed sample event",
    )
    sample = command(
        sub,
        "send-sample",
        "post a signed sample subscription event",
        "seatflow send-sample --url http://127.0.0.1:8000/webhooks/stripe",
        send_sample,
    )
    sample.add_argument("--url", default="http://127.0.0.1:8000/webhooks/stripe")
    sample.add_argument("--customer", default="cus_demo")
