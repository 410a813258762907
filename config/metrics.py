"""Prometheus metrics, shared by the web, API and worker processes.

Counters and histograms are written by every process; under gunicorn or a prefork worker set
`PROMETHEUS_MULTIPROC_DIR` so that all processes' values are summed at scrape time.

The state of the inbox and of upgrades is read from the database at scrape time instead, and
by one process only: the beat that holds the beat lock serves it on its own port
(`adapters.gauges`). The web processes' `/metrics` carry only what that process group counted
itself.

No histogram records a negative value (`NonNegativeHistogram`): PromQL's `rate()` treats a
histogram's `_sum` as a counter, and a negative lag only means that two clocks disagree.

Every endpoint, whatever else it carries, has `process_*` (of the process that answers the
scrape: gunicorn's master on its private listener) and `seatflow_build_info` (version, and
the commit when running from a checkout), so that a dashboard can tell which release runs.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# prometheus_client reads PROMETHEUS_MULTIPROC_DIR itself; the folder must exist before the
# first metric is created, which is now.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


class NonNegativeHistogram(Histogram):
    """A histogram whose observations are clamped at 0 (see the module's docstring)."""

    def observe(self, amount: float, exemplar: dict[str, str] | None = None) -> None:
        super().observe(max(0.0, amount), exemplar)


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
EVENT_LAG = NonNegativeHistogram(
    "seatflow_event_created_to_applied_seconds",
    "From the event's creation at Stripe to its effect here",
    buckets=LATENCY_BUCKETS,
)
RECEIPT_LAG = NonNegativeHistogram(
    "seatflow_event_received_to_applied_seconds",
    "From receipt by the webhook to the effect",
    buckets=LATENCY_BUCKETS,
)
ESTIMATE_DRIFT = NonNegativeHistogram(
    "seatflow_estimate_drift_minor_units",
    "How far the amount charged is from the estimate shown, in minor units (cents); "
    "direction: charged_more, charged_less or none",
    ["direction"],
    buckets=(0, 1, 10, 100, 1000, 10000, 100000),
)
for _direction in ("charged_more", "charged_less", "none"):
    ESTIMATE_DRIFT.labels(_direction)  # present at 0, so that the first one counts in increase()
HTTP_LATENCY = NonNegativeHistogram(
    "seatflow_http_request_duration_seconds",
    "Time to answer a request, by app (receiver, api), URL rule, method and status",
    ["app", "route", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
STRIPE_CALLS = Counter(
    "seatflow_stripe_api_calls_total",
    "Calls to the Stripe API by operation and outcome",
    ["operation", "outcome"],
)
PAYMENT_DRIFT = Counter(
    "seatflow_payment_drift_total",
    "invoice.paid events not applied because they are not the upgrade's own invoice, by what "
    "differed (status, amount, currency, livemode, no_invoice)",
    ["reason"],
)
NOT_OURS = Counter(
    "seatflow_stripe_objects_not_ours_total",
    "Stripe events not applied because their object belongs to no organization or upgrade "
    "seatflow recorded, by what did not match (customer, invoice, payment_method)",
    ["kind"],
)
# Anything else a client sends counts as "other": label values stay a short, fixed list.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_estimate_drift(drift: int) -> None:
    """`drift` is the estimate minus the amount charged: negative when the customer paid more."""
    direction = "charged_less" if drift > 0 else "charged_more" if drift < 0 else "none"
    ESTIMATE_DRIFT.labels(direction).observe(abs(drift))


def observe_request(app: str, rule: str | None, method: str, status: int, seconds: float) -> None:
    """One answered request. `rule` is the matched URL rule (`/api/v1/organizations/<org_id>`),
    never the path itself, so that ids do not become label values; None when nothing matched."""
    HTTP_LATENCY.labels(
        app, rule or "unmatched", method if method in HTTP_METHODS else "other", str(status)
    ).observe(seconds)


class BuildInfo(Collector):
    """`seatflow_build_info{version, commit} 1`: which seatflow answers the scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "seatflow_build_info",
            "The running seatflow: its version, and its commit (`unknown` outside a checkout)",
            labels=["version", "commit"],
        )
        family.add_metric(list(build()), 1)
        yield family


@functools.cache
def build() -> tuple[str, str]:
    try:
        version = metadata.version("seatflow")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return version, commit_of(Path(__file__).resolve().parents[1])


def commit_of(root: Path) -> str:
    """The commit checked out at `root`, read from its `.git` (no `git` needed), or `unknown`
    (an installed wheel has no `.git`)."""
    git = root / ".git"
    try:
        if git.is_file():  # a worktree: `gitdir: PATH`
            git = (root / git.read_text().partition(":")[2].strip()).resolve()
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head  # detached
        ref = head.removeprefix("ref: ")
        common = git / "commondir"
        places = [git, (git / common.read_text().strip()).resolve()] if common.exists() else [git]
        for place in places:
            if (place / ref).is_file():
                return (place / ref).read_text().strip()
            packed = place / "packed-refs"
            if packed.is_file():
                for line in packed.read_text().splitlines():
                    if line.endswith(f" {ref}"):
                        return line.split()[0]
    except OSError:
        pass
    return "unknown"


REGISTRY.register(BuildInfo())  # the default registry has the process collector already


def _scraped(*collectors: Collector) -> CollectorRegistry:
    """A registry of `collectors`, with the process's own metrics and the build."""
    scraped = CollectorRegistry()
    ProcessCollector(registry=scraped)
    scraped.register(BuildInfo())
    for collector in collectors:
        scraped.register(collector)
    return scraped


def registry(multiprocess_mode: bool) -> CollectorRegistry:
    """What this process group counted (in multiprocess mode: summed over its processes)."""
    if multiprocess_mode:
        scraped = _scraped()
        multiprocess.MultiProcessCollector(scraped)  # type: ignore[no-untyped-call]
        return scraped
    return REGISTRY


def exposition(multiprocess_mode: bool) -> tuple[bytes, str]:
    return generate_latest(registry(multiprocess_mode)), CONTENT_TYPE_LATEST


def serve(port: int, multiprocess_mode: bool, host: str = "127.0.0.1") -> bool:
    """Expose this process's (or, in multiprocess mode, all processes') metrics on `port`."""
    return _serve(port, host, registry(multiprocess_mode))


def serve_collectors(port: int, host: str, *collectors: Collector) -> bool:
    """Expose `collectors`, with the process's own metrics and the build, on `port`."""
    return _serve(port, host, _scraped(*collectors))


def _serve(port: int, host: str, scraped: CollectorRegistry) -> bool:
    import prometheus_client

    try:
        prometheus_client.start_http_server(port, addr=host, registry=scraped)
    except OSError:
        return False
    return True
