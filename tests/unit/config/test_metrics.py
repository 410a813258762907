"""Request latency, histograms that never go below zero, and who exports the database's state."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY, Histogram
from prometheus_client.registry import Collector

import api
import webhooks
from adapters import gauges
from config import metrics
from config.database import make_engine
from config.settings import Settings

LATENCY = "seatflow_http_request_duration_seconds"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def requests_seen(app: str, route: str, method: str, status: str) -> float:
    return sample(f"{LATENCY}_count", app=app, route=route, method=method, status=status)


def test_the_receiver_times_requests_by_url_rule_method_and_status(sqlite_settings) -> None:
    client = webhooks.create_app(sqlite_settings).test_client()
    before = requests_seen("receiver", "/webhooks/stripe", "POST", "415")
    health = requests_seen("receiver", "/healthz", "GET", "200")

    client.post("/webhooks/stripe", data=b"x", content_type="text/plain")
    client.get("/healthz")

    assert requests_seen("receiver", "/webhooks/stripe", "POST", "415") == before + 1
    assert requests_seen("receiver", "/healthz", "GET", "200") == health + 1


def test_the_api_labels_requests_with_the_rule_not_the_path(sqlite_settings) -> None:
    client = api.create_app(sqlite_settings).test_client()
    rule = "/api/v1/organizations/<org_id>/subscriptions"
    before = requests_seen("api", rule, "GET", "401")

    for org in ("org_a", "org_b", "org_c"):
        client.get(f"/api/v1/organizations/{org}/subscriptions")

    assert requests_seen("api", rule, "GET", "401") == before + 3
    assert not [
        s
        for family in REGISTRY.collect()
        for s in family.samples
        if s.name.startswith(LATENCY) and "org_a" in s.labels.get("route", "")
    ]


def test_unmatched_paths_and_unknown_methods_share_one_label_value(sqlite_settings) -> None:
    client = webhooks.create_app(sqlite_settings).test_client()
    missing = requests_seen("receiver", "unmatched", "GET", "404")
    odd = requests_seen("receiver", "unmatched", "other", "405")

    client.get("/no/such/page/12345")
    client.get("/no/such/page/67890")
    client.open("/webhooks/stripe", method="BREW")

    assert requests_seen("receiver", "unmatched", "GET", "404") == missing + 2
    assert requests_seen("receiver", "unmatched", "other", "405") == odd + 1


def test_a_request_that_fails_is_timed_as_a_500(sqlite_settings) -> None:
    app = webhooks.create_app(sqlite_settings)

    @app.get("/fails")
    def fails() -> str:
        raise RuntimeError("a bug")

    before = requests_seen("receiver", "/fails", "GET", "500")

    assert app.test_client().get("/fails").status_code == 500
    assert requests_seen("receiver", "/fails", "GET", "500") == before + 1


def histograms() -> Iterator[Histogram]:
    for value in vars(metrics).values():
        if isinstance(value, Histogram):
            yield value.labels(*["x"] * len(value._labelnames)) if value._labelnames else value


@pytest.mark.parametrize("histogram", list(histograms()), ids=lambda h: h._name)
def test_no_histogram_records_a_negative_value(histogram: Histogram) -> None:
    """A clock behind another gives a negative lag; it must count as 0, and the histogram's
    `_sum` (a counter to `rate()`) must not go down."""
    total, count = histogram._sum.get(), sum(b.get() for b in histogram._buckets)

    histogram.observe(-5.0)

    assert histogram._sum.get() == total
    assert sum(b.get() for b in histogram._buckets) == count + 1


def test_estimate_drift_is_recorded_as_a_size_and_a_direction() -> None:
    def drift(direction: str) -> tuple[float, float]:
        name = "seatflow_estimate_drift_minor_units"
        return sample(f"{name}_sum", direction=direction), sample(
            f"{name}_count", direction=direction
        )

    more, less, none = drift("charged_more"), drift("charged_less"), drift("none")

    metrics.observe_estimate_drift(-250)  # estimate 100.00, charged 102.50
    metrics.observe_estimate_drift(40)
    metrics.observe_estimate_drift(0)

    assert drift("charged_more") == (more[0] + 250, more[1] + 1)
    assert drift("charged_less") == (less[0] + 40, less[1] + 1)
    assert drift("none") == (none[0], none[1] + 1)


# The database's state: one exporter.


def test_the_web_apps_do_not_export_the_database_state(sqlite_settings) -> None:
    for app in (webhooks.create_app(sqlite_settings), api.create_app(sqlite_settings)):
        text = app.test_client().get("/metrics").get_data(as_text=True)
        assert "seatflow_http_request_duration_seconds" in text
        for name in ("seatflow_inbox_", "seatflow_upgrades", "seatflow_upgrade_transitions"):
            assert name not in text, f"{app.name} exports {name}"


def collected(collector: Collector) -> dict[str, float]:
    return {
        f"{s.name}{sorted(s.labels.items())}": s.value
        for family in collector.collect()
        for s in family.samples
    }


def test_the_database_state_is_exported_only_while_leading(sqlite_settings: Settings) -> None:
    database = str(sqlite_settings.database_url).removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:  # foreign keys off: no upgrade is needed here
        conn.execute(
            "INSERT INTO upgrade_transitions (upgrade_id, to_state, at, cause)"
            " VALUES ('upg_1', 'payment_failed', '2026-01-01 00:00:00', 'declined')"
        )
        conn.execute(
            "INSERT INTO drift_records (kind, subject, cause, flagged, repaired, created_at)"
            " VALUES ('stripe_state', 'sub_1', 'seats', 0, 1, '2026-01-01 00:00:00')"
        )
    engine = make_engine(sqlite_settings)
    leading = {"now": True}
    collector = gauges.DatabaseCollector(engine, lambda: leading["now"])

    found = collected(collector)
    leading["now"] = False

    assert found["seatflow_upgrade_transitions_total[('to', 'payment_failed')]"] == 1
    assert found["seatflow_drift_records_total[('kind', 'stripe_state')]"] == 1
    assert found["seatflow_drift_records_flagged_total[('kind', 'stripe_state')]"] == 0
    assert found["seatflow_inbox_rows[('state', 'dead')]"] == 0  # present before the first
    assert found["seatflow_inbox_oldest_unapplied_age_seconds[]"] == 0
    assert found["seatflow_inbox_oldest_dead_age_seconds[]"] == 0
    assert collected(collector) == {}
