"""`seatflow events`: the webhook inbox: list, show, replay, redrive, prune, purge."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

import bootstrap
from cli.common import Subparsers, command, group, print_json
from cli.surcharge import parse_time
from inbox.states import PENDING_STATES, InboxState
from services import admin


def list_events(args: argparse.Namespace) -> int:
    rows = admin.list_events(bootstrap.runtime().unit_of_work(), args.state, args.limit)
    for row in rows:
        print(
            f"{row['event_id']:<32} {row['type']:<40} {row['state']:<14} "
            f"attempts={row['attempts']} {row['last_error'] or ''}".rstrip()
        )
    print(f"{len(rows)} event(s)", file=sys.stderr)
    return 0


def show(args: argparse.Namespace) -> int:
    row = admin.show_event(bootstrap.runtime().unit_of_work(), args.event_id)
    if row is None:
        print(f"no event {args.event_id}", file=sys.stderr)
        return 1
    print_json(row)
    return 0


def replay(args: argparse.Namespace) -> int:
    runtime = bootstrap.runtime()
    state = admin.replay_event(runtime.unit_of_work(), runtime.deps, args.event_id)
    print(f"{args.event_id}: {state}")
    return 0 if state != "missing" else 1


def dead(args: argparse.Namespace) -> int:
    args.state = InboxState.DEAD.value
    return list_events(args)


def prune(args: argparse.Namespace) -> int:
    count = admin.prune_applied(
        bootstrap.runtime().unit_of_work(),
        timedelta(days=args.older_than_days),
        dry_run=args.dry_run,
    )
    print(f"{count} finished event(s) {'would be ' if args.dry_run else ''}pruned")
    return 0


def purge(args: argparse.Namespace) -> int:
    purged = admin.purge_dead(bootstrap.runtime().unit_of_work(), args.event_ids)
    print(f"{purged} dead event(s) purged")
    return 0


def redrive(args: argparse.Namespace) -> int:
    if not (args.dead or args.id or args.type or args.since or args.until):
        print("say which dead events: --dead (all), --id, --type, --since/--until", file=sys.stderr)
        return 2
    ids = admin.redrive(
        bootstrap.runtime().unit_of_work(),
        bootstrap.runtime().celery,
        event_ids=args.id,
        types=args.type,
        since=parse_time(args.since) if args.since else None,
        until=parse_time(args.until) if args.until else None,
        dry_run=args.dry_run,
    )
    verb = "would redrive" if args.dry_run else "redriven"
    for event_id in ids:
        print(event_id)
    states = admin.not_redriven(bootstrap.runtime().unit_of_work(), args.id, ids)
    for event_id, state in states.items():
        print(f"{event_id}: not redriven: {_why(event_id, state)}", file=sys.stderr)
    if not ids and not args.id:
        print("no dead event matches", file=sys.stderr)
    print(f"{len(ids)} event(s) {verb}", file=sys.stderr)
    return 1 if states else 0


def _why(event_id: str, state: str | None) -> str:
    if state is None:
        return "no such event"
    if state == InboxState.DEAD.value:
        return "it is dead, but not of the --type or within the --since/--until given"
    if state in PENDING_STATES:
        return f"it is {state}, not dead: a worker applies it"
    return f"it is {state}, not dead (to run it again now: seatflow events replay {event_id})"


def register(sub: Subparsers) -> None:
    events = group(sub, "events", "the webhook inbox")
    listing = command(
        events, "list", "list stored events", "seatflow events list --state dead", list_events
    )
    listing.add_argument("--state", choices=[s.value for s in InboxState])
    listing.add_argument("--limit", type=int, default=50)
    one = command(
        events, "show", "show one event with its payload", "seatflow events show evt_123", show
    )
    one.add_argument("event_id")
    again = command(
        events,
        "replay",
        "re-run an event from its stored payload, now",
        "seatflow events replay evt_123",
        replay,
    )
    again.add_argument("event_id")
    back = command(
        events,
        "redrive",
        "send dead events back to the workers",
        "seatflow events redrive --type invoice.paid --since 2026-11-01T00:00:00Z --dry-run",
        redrive,
    )
    back.add_argument("--dead", action="store_true", help="every dead event")
    back.add_argument("--id", action="append", default=[], help="an event id (repeatable)")
    back.add_argument("--type", action="append", default=[], help="an event type")
    back.add_argument("--since", help="received at or after (ISO 8601)")
    back.add_argument("--until", help="received before (ISO 8601)")
    back.add_argument("--dry-run", action="store_true", help="list, change nothing")
    parked = command(
        events, "dead", "list dead events with their error", "seatflow events dead", dead
    )
    parked.add_argument("--limit", type=int, default=50)
    old = command(
        events,
        "prune",
        "delete finished events past retention",
        "seatflow events prune --older-than-days 30 --dry-run",
        prune,
    )
    old.add_argument("--older-than-days", type=int, default=30)
    old.add_argument("--dry-run", action="store_true")
    gone = command(
        events, "purge", "delete dead events for good", "seatflow events purge evt_123", purge
    )
    gone.add_argument("event_ids", nargs="+")
