"""Prometheus metrics, shared by the web, API and worker processes.

Counters and histograms are written by every process; under gunicorn or a prefork worker set
`PROMETHEUS_MULTIPROC_DIR` so that all processes' values are summed at scrape time. The
state of the inbox and of upgrades is read from the database at scrape time instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

# prometheus_client reads PROMETHEUS_MULTIPROC_DIR itself; the folder must exist before the
# first metric is created, which is now.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

WEBHOOKS = Counter(
    "seatflow_webhooks_received_total",
    "Verified webhook deliveries by event type and outcome (stored, duplicate, ignored)",
    ["type", "outcome"],
)
REJECTED = Counter(
    "seatflow_webhooks_rejected_total", "Webhook deliveries rejected, by reason", ["reason"]
)
SIGNATURES = Counter(
    "seatflow_webhook_signature_checks_total",
    "Signature checks per configured secret (index) and result; during a "
    "rotation the old secret's mismatches grow as senders move on",
    ["secret_index", "result"],
)
PROCESSED = Counter(
    "seatflow_events_processed_total",
    "Stored events processed by the workers, by type and final state",
    ["type", "state"],
)
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400)
EVENT_LAG = Histogram(
    "seatflow_event_created_to_applied_seconds",
    "From the event's creation at Stripe to its effect here",
    buckets=LATENCY_BUCKETS,
)
RECEIPT_LAG = Histogram(
    "seatflow_event_received_to_applied_seconds",
    "From receipt by the webhook to the effect",
    buckets=LATENCY_BUCKETS,
)
ESTIMATE_DRIFT = Histogram(
    "seatflow_estimate_drift_minor_units",
    "Estimate minus charged amount, in minor units (cents)",
    buckets=(-10000, -1000, -100, -10, -1, 0, 1, 10, 100, 1000, 10000),
)
STRIPE_CALLS = Counter(
    "seatflow_stripe_api_calls_total",
    "Calls to the Stripe API by operation and outcome",
    ["operation", "outcome"],
)


class DatabaseCollector(Collector):
    """Inbox rows by state, ages of the oldest unapplied and dead events, upgrades by state."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = time.time()
        try:
            with self.engine.connect() as conn:
                inbox = conn.execute(text("SELECT state, count(*) FROM inbox GROUP BY state"))
                states = {str(s): int(n) for s, n in inbox}
                oldest = {
                    kind: conn.execute(
                        text(f"SELECT min(received_at) FROM inbox WHERE state IN ({states_sql})")
                    ).scalar()
                    for kind, states_sql in (
                        ("unapplied", "'received', 'queued'"),
                        ("dead", "'dead'"),
                    )
                }
                upgrades: dict[str, int] = {
                    str(state): int(count)
                    for state, count in conn.execute(
                        text("SELECT state, count(*) FROM upgrades GROUP BY state")
                    )
                }
        except Exception:  # a scrape must not fail because the database is away
            return
        rows = GaugeMetricFamily("seatflow_inbox_rows", "Inbox rows by state", labels=["state"])
        for state, count in sorted(states.items()):
            rows.add_metric([state], count)
        yield rows
        for kind, first in oldest.items():
            age = GaugeMetricFamily(
                f"seatflow_inbox_oldest_{kind}_age_seconds",
                f"Age of the oldest {kind} event (0 when there is none)",
            )
            age.add_metric([], max(0.0, now - _epoch(first)) if first else 0.0)
            yield age
        family = GaugeMetricFamily("seatflow_upgrades", "Upgrades by state", labels=["state"])
        for state, count in sorted(upgrades.items()):
            family.add_metric([str(state)], int(count))
        yield family


def _epoch(value: Any) -> float:
    if isinstance(value, str):  # SQLite returns text
        from datetime import UTC, datetime

        moment = datetime.fromisoformat(value)
        value = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return float(value.timestamp())


def registry(multiprocess_mode: bool, engine: Engine | None = None) -> CollectorRegistry:
    if multiprocess_mode:
        scraped = CollectorRegistry()
        multiprocess.MultiProcessCollector(scraped)  # type: ignore[no-untyped-call]
    else:
        scraped = REGISTRY
    if engine is not None:
        combined = CollectorRegistry()
        combined.register(_Both(scraped, DatabaseCollector(engine)))
        return combined
    return scraped


class _Both(Collector):
    def __init__(self, first: CollectorRegistry, second: Collector) -> None:
        self.first, self.second = first, second

    def collect(self) -> Iterator[Any]:
        yield from self.first.collect()
        yield from self.second.collect()


def exposition(multiprocess_mode: bool, engine: Engine | None = None) -> tuple[bytes, str]:
    return generate_latest(registry(multiprocess_mode, engine)), CONTENT_TYPE_LATEST


def serve(port: int, multiprocess_mode: bool) -> bool:
    """Expose this process's (or, in multiprocess mode, all processes') metrics on `port`."""
    from prometheus_client import start_http_server

    try:
        start_http_server(port, addr="0.0.0.0", registry=registry(multiprocess_mode))
    except OSError:
        return False
    return True
