"""`seatflow`: the command line for operators and developers."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from workers import admin, bootstrap, devserver

Command = Callable[[argparse.Namespace], int]


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from workers import migrate

    migrate.upgrade()
    print("database is at the newest migration")
    return 0


def cmd_org_create(args: argparse.Namespace) -> int:
    _print(admin.create_organization(bootstrap.unit_of_work(), args.name, args.id, args.customer))
    return 0


def cmd_events_list(args: argparse.Namespace) -> int:
    rows = admin.list_events(bootstrap.engine(), args.state, args.limit)
    for row in rows:
        print(
            f"{row['event_id']:<32} {row['type']:<40} {row['state']:<14} "
            f"attempts={row['attempts']} {row['last_error'] or ''}".rstrip()
        )
    print(f"{len(rows)} event(s)", file=sys.stderr)
    return 0


def cmd_events_show(args: argparse.Namespace) -> int:
    row = admin.show_event(bootstrap.engine(), args.event_id)
    if row is None:
        print(f"no event {args.event_id}", file=sys.stderr)
        return 1
    _print(row)
    return 0


def cmd_events_replay(args: argparse.Namespace) -> int:
    state = admin.replay_event(
        bootstrap.engine(), bootstrap.unit_of_work(), bootstrap.deps(), args.event_id
    )
    print(f"{args.event_id}: {state}")
    return 0 if state != "missing" else 1


def cmd_events_redrive(args: argparse.Namespace) -> int:
    ids = admin.redrive_dead(bootstrap.engine(), bootstrap.celery(), dry_run=args.dry_run)
    verb = "would redrive" if args.dry_run else "redriven"
    for event_id in ids:
        print(event_id)
    print(f"{len(ids)} event(s) {verb}", file=sys.stderr)
    return 0


def cmd_send_sample(args: argparse.Namespace) -> int:
    status, body = devserver.send_sample(bootstrap.settings(), args.url, args.customer)
    print(f"HTTP {status} {body.strip()}")
    return 0 if status == 200 else 1


def cmd_dev(args: argparse.Namespace) -> int:
    return devserver.run(bootstrap.settings(), port=args.port, demo=args.demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seatflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run web + worker + beat on this machine")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument(
        "--demo",
        action="store_true",
        help="create a demo organization and send it a signed sample event",
    )
    dev.set_defaults(func=cmd_dev)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="apply all migrations").set_defaults(func=cmd_db_upgrade)

    org = sub.add_parser("org", help="organizations").add_subparsers(dest="org", required=True)
    create = org.add_parser("create", help="create an organization")
    create.add_argument("--name", required=True)
    create.add_argument("--id", help="organization id (default: generated)")
    create.add_argument("--customer", help="its Stripe customer id (cus_...)")
    create.set_defaults(func=cmd_org_create)

    events = sub.add_parser("events", help="the webhook inbox").add_subparsers(
        dest="events", required=True
    )
    listing = events.add_parser("list", help="list stored events")
    listing.add_argument("--state", help="received, queued, applied, ignored, skipped_stale, dead")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(func=cmd_events_list)
    show = events.add_parser("show", help="show one event with its payload")
    show.add_argument("event_id")
    show.set_defaults(func=cmd_events_show)
    replay = events.add_parser("replay", help="re-run an event from its stored payload, now")
    replay.add_argument("event_id")
    replay.set_defaults(func=cmd_events_replay)
    redrive = events.add_parser("redrive", help="send dead events back to the workers")
    redrive.add_argument(
        "--dead", action="store_true", required=True, help="redrive every dead event"
    )
    redrive.add_argument("--dry-run", action="store_true", help="list, change nothing")
    redrive.set_defaults(func=cmd_events_redrive)

    sample = sub.add_parser("send-sample", help="post a signed sample subscription event")
    sample.add_argument("--url", default="http://127.0.0.1:8000/webhooks/stripe")
    sample.add_argument("--customer", default="cus_demo")
    sample.set_defaults(func=cmd_send_sample)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from config.settings import ConfigError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
