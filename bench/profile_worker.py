"""Where the worker's time goes: stored subscription updates applied in this process, in task
messages of `--batch` events, on PostgreSQL, with the CPU time and SQL statements counted and
the top entries of a CPU-time profile printed.

    python -m bench.profile_worker [--events 4000 --orgs 200 --batch 150 --backlog 64 --top 30
                                    --no-profile]

The events are the burst benchmark's: full-size subscription updates (bench/events.py;
`--small-events` for the small samples), each a real seat change of one of `--orgs`
organizations; they are stored first, then applied by `process_stripe_events`, as a Celery
child would (each message also taking on up to `--backlog` stored events never tried, as the
worker's task does), without Celery around it (its cost per message is measured by
bench.pipeline).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, event

from bench import events as bench_events
from bench import results
from bench.burst import _database, _drop
from bench.pipeline import env_for
from inbox.events import IncomingEvent
from webhooks.writer import Delivery, InboxWriter
from workers import garbage


def _store(url: str, events: int, orgs: int, small: bool = False) -> list[str]:
    writer = InboxWriter(create_engine(url), lambda ids: None)
    for i in range(events):
        body = bench_events.body(bench_events.nth(i, orgs, small))
        writer.store(Delivery(IncomingEvent.parse(body), body, 0, "received"))
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        return [r[0] for r in conn.execute("SELECT event_id FROM inbox ORDER BY id")]


def profile(
    events: int,
    orgs: int,
    batch: int,
    top: int,
    warmup: int,
    profiled: bool = True,
    small: bool = False,
    backlog: int = 0,
) -> dict[str, Any]:
    url = _database(orgs)
    try:
        ids = _store(url, events + warmup, orgs, small)
        with tempfile.TemporaryDirectory() as tmp:
            os.environ.update(env_for(url, f"profile-{secrets.token_hex(3)}", Path(tmp)))
            import bootstrap
            from services import stripe_events

            statements = 0

            def count(*_: Any) -> None:
                nonlocal statements
                statements += 1

            event.listen(bootstrap.runtime().engine, "before_cursor_execute", count)
            deps = bootstrap.runtime().deps

            def run(chunk: list[str], backlog: int = backlog) -> dict[str, int]:
                return stripe_events.process_stripe_events(
                    chunk,
                    bootstrap.runtime().unit_of_work,
                    deps,
                    retry_alone=lambda _: False,
                    backlog=backlog,
                )

            for k in range(0, warmup, batch):  # imports, pools, caches (none taken on)
                run(ids[k : min(k + batch, warmup)], backlog=0)
            garbage.collect_less_often()  # as the worker, once it has started
            statements = 0
            profiler = cProfile.Profile(time.process_time)
            cpu, wall = time.process_time(), time.perf_counter()
            if profiled:
                profiler.enable()
            for k in range(warmup, len(ids), batch):
                run(ids[k : k + batch])
            profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            # The rows' final states (a message's own count names again the events an
            # earlier message took on).
            with psycopg.connect(url.replace("+psycopg", "")) as conn:
                found = conn.execute(
                    "SELECT state, count(*) FROM inbox WHERE event_id = ANY(%s) GROUP BY state",
                    (ids[warmup:],),
                ).fetchall()
            states = {str(state): int(n) for state, n in found}
    finally:
        _drop(url)
    entries: list[dict[str, Any]] = []
    own_code: list[dict[str, Any]] = []
    total = 0.0
    if profiled:
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
        stats.dump_stats(Path(tempfile.gettempdir()) / "seatflow-worker.prof")
        entries, total = top_entries(stats, top), float(getattr(stats, "total_tt", 0.0))
        own_code = top_entries(stats, top, by="cumulative", only=PROJECT)
    result = {
        "events": events,
        "batch": batch,
        "backlog": backlog,
        "states": states,
        "cpu_us_per_event": round(cpu / events * 1e6),
        "wall_us_per_event": round(wall / events * 1e6),
        "statements_per_event": round(statements / events, 2),
    }
    print(json.dumps(result), flush=True)
    return result | {
        "profile": entries,
        "profile_cumulative": own_code,
        "profile_total_s": round(total, 4),
    }


# What workers.tasks passes (importing it here would start the worker's runtime).
BACKLOG = 64

# seatflow's own code, whose cumulative times say which step of the worker costs what.
PROJECT = ("services/", "adapters/", "domain/", "config/", "workers/")


def top_entries(
    stats: pstats.Stats, top: int, by: str = "own", only: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The `top` functions by own CPU time (or `by` cumulative time, those of `only`'s
    folders): where, calls (total/primitive), own and cumulative seconds."""
    raw: dict[Any, Any] = getattr(stats, "stats", {})
    column = 3 if by == "cumulative" else 2
    chosen = [kv for kv in raw.items() if not only or _short(kv[0][0]).startswith(only)]
    ranked = sorted(chosen, key=lambda kv: kv[1][column], reverse=True)[:top]
    out = []
    for (filename, line, function), (primitive, calls, own, cumulative, _) in ranked:
        where = _short(filename)
        calls_text = str(calls) if calls == primitive else f"{calls}/{primitive}"
        out.append(
            {
                "function": f"{where}:{line}({function})" if filename != "~" else function,
                "ncalls": calls_text,
                "tottime_s": round(own, 4),
                "cumtime_s": round(cumulative, 4),
            }
        )
    return out


def _short(filename: str) -> str:
    """A path from the project or a package's own folder, not the machine's."""
    for marker in ("site-packages/", "/lib/python3."):
        if marker in filename:
            tail = filename.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker.startswith("/lib") else tail
    root = str(Path(__file__).resolve().parents[1]) + "/"
    return filename.removeprefix(root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--orgs", type=int, default=200)
    # Under load the receiver's messages name about 150 events each (the worker's log of a
    # burst run: 122 of its 124 messages named 60 or more).
    parser.add_argument("--batch", type=int, default=150, help="events per task message")
    parser.add_argument(
        "--backlog",
        type=int,
        default=BACKLOG,
        help="stored events a message may take on besides its own (the worker's: 64)",
    )
    parser.add_argument("--top", type=int, default=30, help="profile entries printed")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--no-profile", action="store_true", help="only the CPU time, without the profiler"
    )
    bench_events.add_flag(parser)
    results.add_flag(parser)
    args = parser.parse_args()
    run = results.start("profile_worker", args)
    result = profile(
        args.events,
        args.orgs,
        args.batch,
        args.top,
        args.warmup,
        not args.no_profile,
        args.small_events,
        args.backlog,
    )
    extra = {k: result.pop(k) for k in ("profile", "profile_cumulative", "profile_total_s")}
    results.write(run, [result], **extra)


if __name__ == "__main__":
    main()
