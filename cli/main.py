"""`seatflow`: the command line for operators and developers."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from cli import devserver
from cli import surcharge as audit
from domain.model import Interval
from services import admin, bootstrap

INTERVALS = [i.value for i in Interval]

Command = Callable[[argparse.Namespace], int]


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from adapters import migrations as migrate

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


def cmd_events_dead(args: argparse.Namespace) -> int:
    args.state = "dead"
    return cmd_events_list(args)


def cmd_events_prune(args: argparse.Namespace) -> int:
    count = admin.prune_applied(
        bootstrap.engine(), timedelta(days=args.older_than_days), dry_run=args.dry_run
    )
    print(f"{count} finished event(s) {'would be ' if args.dry_run else ''}pruned")
    return 0


def cmd_events_purge(args: argparse.Namespace) -> int:
    print(f"{admin.purge_dead(bootstrap.engine(), args.event_ids)} dead event(s) purged")
    return 0


def cmd_events_redrive(args: argparse.Namespace) -> int:
    if not (args.dead or args.id or args.type or args.since or args.until):
        print("say which dead events: --dead (all), --id, --type, --since/--until", file=sys.stderr)
        return 2
    ids = admin.redrive(
        bootstrap.engine(),
        bootstrap.celery(),
        event_ids=args.id,
        types=args.type,
        since=audit.parse_time(args.since) if args.since else None,
        until=audit.parse_time(args.until) if args.until else None,
        dry_run=args.dry_run,
    )
    verb = "would redrive" if args.dry_run else "redriven"
    for event_id in ids:
        print(event_id)
    print(f"{len(ids)} event(s) {verb}", file=sys.stderr)
    return 0


def cmd_member_add(args: argparse.Namespace) -> int:
    _print(admin.add_member(bootstrap.unit_of_work(), args.org, args.email, args.role))
    return 0


def cmd_member_remove(args: argparse.Namespace) -> int:
    return 0 if admin.remove_member(bootstrap.unit_of_work(), args.member_id) else 1


def cmd_token_create(args: argparse.Namespace) -> int:
    created = admin.create_token(bootstrap.unit_of_work(), args.member)
    _print(created)
    print(
        "keep the token: it is shown once (send it as Authorization: Bearer <token>)",
        file=sys.stderr,
    )
    return 0


def cmd_catalog_import(args: argparse.Namespace) -> int:
    with open(args.file) as handle:
        entries = json.load(handle)
    count = admin.import_catalog(bootstrap.unit_of_work(), entries)
    print(f"{count} price(s) imported")
    return 0


def cmd_catalog_list(args: argparse.Namespace) -> int:
    for p in admin.list_catalog(bootstrap.unit_of_work()):
        print(
            f"{p.license_type:<14} {p.interval:<6} {p.unit_amount:>10} {p.currency} "
            f"{p.stripe_price_id}"
        )
    return 0


def cmd_discount_create(args: argparse.Namespace) -> int:
    expires = audit.parse_time(args.expires_at) if args.expires_at else None
    _print(
        admin.create_discount(
            bootstrap.unit_of_work(),
            args.code,
            args.percent_off,
            args.amount_off,
            args.currency,
            expires,
            args.max_redemptions,
        )
    )
    return 0


def cmd_surcharge(args: argparse.Namespace) -> int:
    if args.batch:
        with open(args.batch) as handle:
            for line in audit.batch(handle):
                print(line)
        return 0
    case = {
        k: v
        for k, v in vars(args).items()
        if k in audit.FIELDS or k in ("currency", "percent_off", "amount_off", "trial")
    }
    result = audit.surcharge(case)
    _print(result)
    return 1 if "error" in result else 0


def cmd_license_verify(args: argparse.Namespace) -> int:
    from pathlib import Path

    from adapters.license_signer import verify_file

    key = args.public_key
    if Path(key).is_file():
        key = Path(key).read_text().strip()
    verdict = verify_file(Path(args.file).read_text(), key, args.machine_id)
    if not verdict.ok:
        print(f"invalid: {verdict.reason}", file=sys.stderr)
        return 1
    c = verdict.claims
    until = c.get("expires_at") or c.get("valid_until")
    bound = f", machine {c['machine_id']}" if c.get("kind") == "offline" else ""
    seats = f", {c['seats']} seat(s), {c['interval']}ly" if "seats" in c else ""
    print(
        f"valid: {c['kind']} license {c['license_id']} v{c['version']} for "
        f"{c['organization_id']}, {c['license_type']}{seats}{bound}, until {until}"
    )
    return 0


def cmd_license_public_key(args: argparse.Namespace) -> int:
    from adapters.license_signer import load_signer

    print(load_signer(bootstrap.settings()).public_key)
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from adapters import drift
    from services import reconciliation as reconcile

    def progress(what: str, count: int) -> None:
        print(f"\r{what}: {count:,} checked", end="", file=sys.stderr, flush=True)

    since = audit.parse_time(args.since) if args.since else None
    summary = reconcile.run_all(
        bootstrap.unit_of_work(),
        bootstrap.deps(),
        dry_run=args.dry_run,
        org_id=args.org,
        since=since,
        progress=progress,
    )
    print(file=sys.stderr)
    print(drift.render_summary(summary))
    if args.dry_run:
        print("dry run: nothing was changed")
    return 0


def cmd_drift_report(args: argparse.Namespace) -> int:
    from adapters import drift

    print(drift.render(drift.rows(bootstrap.engine(), args.kind, args.limit), args.format))
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
    redrive.add_argument("--dead", action="store_true", help="every dead event")
    redrive.add_argument("--id", action="append", default=[], help="an event id (repeatable)")
    redrive.add_argument("--type", action="append", default=[], help="an event type")
    redrive.add_argument("--since", help="received at or after (ISO 8601)")
    redrive.add_argument("--until", help="received before (ISO 8601)")
    redrive.add_argument("--dry-run", action="store_true", help="list, change nothing")
    redrive.set_defaults(func=cmd_events_redrive)
    dead = events.add_parser("dead", help="list dead events with their error")
    dead.add_argument("--limit", type=int, default=50)
    dead.set_defaults(func=cmd_events_dead)
    prune = events.add_parser("prune", help="delete finished events past retention")
    prune.add_argument("--older-than-days", type=int, default=30)
    prune.add_argument("--dry-run", action="store_true")
    prune.set_defaults(func=cmd_events_prune)
    purge = events.add_parser("purge", help="delete dead events for good")
    purge.add_argument("event_ids", nargs="+")
    purge.set_defaults(func=cmd_events_purge)

    member = sub.add_parser("member", help="organization members").add_subparsers(
        dest="member", required=True
    )
    madd = member.add_parser("add", help="add a member with a role")
    madd.add_argument("--org", required=True)
    madd.add_argument("--email", required=True)
    madd.add_argument("--role", required=True, choices=["owner", "admin", "member"])
    madd.set_defaults(func=cmd_member_add)
    mremove = member.add_parser("remove", help="remove a member (their tokens stop working)")
    mremove.add_argument("member_id")
    mremove.set_defaults(func=cmd_member_remove)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="token", required=True)
    tcreate = token.add_parser("create", help="create a bearer token for a member")
    tcreate.add_argument("--member", required=True)
    tcreate.set_defaults(func=cmd_token_create)

    catalog = sub.add_parser("catalog", help="prices by license type and interval")
    catalog_sub = catalog.add_subparsers(dest="catalog", required=True)
    cimport = catalog_sub.add_parser("import", help="import prices from a JSON list")
    cimport.add_argument("file")
    cimport.set_defaults(func=cmd_catalog_import)
    catalog_sub.add_parser("list", help="list prices").set_defaults(func=cmd_catalog_list)

    discount = sub.add_parser("discount", help="discount codes").add_subparsers(
        dest="discount", required=True
    )
    dcreate = discount.add_parser("create", help="create a discount code")
    dcreate.add_argument("code")
    dcreate.add_argument("--percent-off", type=int)
    dcreate.add_argument("--amount-off", type=int, help="minor units")
    dcreate.add_argument("--currency")
    dcreate.add_argument("--expires-at", help="ISO 8601 time")
    dcreate.add_argument("--max-redemptions", type=int)
    dcreate.set_defaults(func=cmd_discount_create)

    sur = sub.add_parser("surcharge", help="compute a surcharge from explicit inputs (JSON)")
    sur.add_argument("--batch", metavar="FILE.jsonl", help="one case per line in, one result out")
    sur.add_argument("--old-unit-amount", type=int, help="minor units per seat")
    sur.add_argument("--old-seats", type=int)
    sur.add_argument("--old-interval", choices=INTERVALS)
    sur.add_argument("--new-unit-amount", type=int)
    sur.add_argument("--new-seats", type=int)
    sur.add_argument("--new-interval", choices=INTERVALS)
    sur.add_argument("--cycle-start", help="ISO 8601, e.g. 2022-01-01T00:00:00Z")
    sur.add_argument("--as-of", help="ISO 8601, e.g. 2022-01-11T00:00:00Z")
    sur.add_argument("--currency", default="usd")
    sur.add_argument("--percent-off", type=int)
    sur.add_argument("--amount-off", type=int)
    sur.add_argument("--trial", action="store_true")
    sur.set_defaults(func=cmd_surcharge)

    rec = sub.add_parser("reconcile", help="compare with Stripe now; repair and record drift")
    rec.add_argument("--dry-run", action="store_true", help="report, change nothing")
    rec.add_argument("--org", help="only this organization")
    rec.add_argument("--since", help="look for missed events from this time (ISO 8601)")
    rec.set_defaults(func=cmd_reconcile)
    drift_cmd = sub.add_parser("drift", help="drift found by reconciliation")
    drift_sub = drift_cmd.add_subparsers(dest="drift", required=True)
    report = drift_sub.add_parser("report", help="list drift records")
    report.add_argument("--format", choices=["table", "json", "csv"], default="table")
    report.add_argument("--kind", choices=["estimate", "stripe_state", "missed_event", "saga"])
    report.add_argument("--limit", type=int, default=1000)
    report.set_defaults(func=cmd_drift_report)

    lic = sub.add_parser("license", help="license files").add_subparsers(
        dest="license", required=True
    )
    verify = lic.add_parser("verify", help="check a license file offline (no network, no DB)")
    verify.add_argument("file")
    verify.add_argument("--public-key", required=True, help="base64 key, or a file holding it")
    verify.add_argument("--machine-id", help="the machine an offline license must be bound to")
    verify.set_defaults(func=cmd_license_verify)
    lic.add_parser("public-key", help="print the public key to ship with clients").set_defaults(
        func=cmd_license_public_key
    )

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
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
