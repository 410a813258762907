"""The alert rules, their unit tests and the Grafana dashboard in deploy/.

`promtool` (Debian's `prometheus` package; `scripts/ensure-promtool` installs it) checks and
tests the rules. A missing promtool fails these tests: an unchecked rule file must not pass as
green. Every metric the rules and the dashboard name must be one seatflow exports, with the
labels it has, so that renaming a metric breaks this test rather than an alert in production.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics import MetricWrapperBase

from adapters import gauges
from config import metrics
from config.database import make_engine
from config.settings import Settings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
RULE_TESTS = DEPLOY / "prometheus" / "alerts_test.yml"
SCRAPE_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
DASHBOARD = DEPLOY / "grafana" / "seatflow.json"
SELECTOR = re.compile(r"\b(seatflow_[a-z0-9_]+|up)\b(?:\{([^}]*)\})?")
MATCHER = re.compile(r'(\w+)\s*(?:=~|!~|!=|=)\s*"([^"]*)"')
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is missing: run scripts/ensure-promtool (Debian's prometheus)")
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def alerts() -> list[dict[str, Any]]:
    rules = yaml.safe_load(RULES.read_text())
    return [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]


def dashboard_queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


@pytest.mark.slow  # starts a process
def test_the_alert_rules_are_valid(promtool: str) -> None:
    result = run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


@pytest.mark.slow  # starts a process
def test_every_alert_fires_on_its_fault_and_not_without_it(promtool: str) -> None:
    result = run(promtool, "test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout

    firing: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case["alert_rule_test"]:
            (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alerts()}
    assert names == firing, "every alert needs a test where it fires"
    assert names == quiet, "every alert needs a test where it does not fire"


@pytest.mark.slow  # starts a process
def test_the_example_scrape_config_is_valid(promtool: str) -> None:
    result = run(promtool, "check", "config", str(SCRAPE_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow  # starts a process
def test_every_dashboard_query_is_promql(promtool: str, tmp_path: Path) -> None:
    as_rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{n}", "expr": expr}
                    for n, expr in enumerate(dashboard_queries())
                ],
            }
        ]
    }
    rules = tmp_path / "dashboard.yml"
    rules.write_text(yaml.safe_dump(as_rules))
    result = run(promtool, "check", "rules", str(rules))
    assert result.returncode == 0, result.stdout + result.stderr


def exported(settings: Settings) -> dict[str, frozenset[str]]:
    """Every series name seatflow exports, with the label names each one may carry."""
    series: dict[str, frozenset[str]] = {}
    scrape = frozenset({"job", "instance"})

    def add(name: str, kind: str, labels: frozenset[str]) -> None:
        labels |= scrape
        if kind == "counter":
            series[f"{name}_total"] = labels
        elif kind == "histogram":
            series[f"{name}_bucket"] = labels | {"le"}
            series[f"{name}_sum"] = series[f"{name}_count"] = labels
        else:
            series[name] = labels

    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            add(value._name, value._type, frozenset(value._labelnames))
    for family in metrics.BuildInfo().collect():
        add(family.name, family.type, frozenset({"version", "commit"}))
    counted = {c.name: frozenset({c.label}) for c in gauges.DATABASE_COUNTS}
    for family in gauges.DatabaseCollector(make_engine(settings)).collect():
        kind = "counter" if isinstance(family, CounterMetricFamily) else family.type
        add(family.name, kind, counted.get(family.name, frozenset()))
    return series


def test_every_metric_in_the_alerts_and_the_dashboard_is_exported(sqlite_settings) -> None:
    series = exported(sqlite_settings)
    jobs = {job["job_name"] for job in yaml.safe_load(SCRAPE_CONFIG.read_text())["scrape_configs"]}
    queries = [rule["expr"] for rule in alerts()] + dashboard_queries()
    for expr in queries:
        named: set[str] = set()
        for name, matchers in SELECTOR.findall(expr):
            pairs = MATCHER.findall(matchers)
            if name == "up":
                named_jobs = {v for k, v in pairs if k == "job" and not v.startswith("$")}
                assert named_jobs <= jobs, expr  # `$job`: the dashboard's variable
                continue
            assert name in series, f"{name} is not exported by seatflow ({expr})"
            assert {k for k, _ in pairs} <= series[name], f"unknown label in {expr}"
            named |= series[name]
        for grouping in GROUPING.findall(expr):
            labels = {label.strip() for label in grouping.split(",") if label.strip()}
            assert labels <= named | {"le"}, f"grouping by an unknown label in {expr}"
    assert len(queries) > 20


def test_the_dashboard_is_an_importable_grafana_dashboard() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "seatflow"
    assert isinstance(dashboard["schemaVersion"], int)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24 and box["h"] > 0, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert panel["targets"], panel["title"]


# Each alert names its section of the operations guide.

OPERATIONS = DEPLOY.parent / "docs" / "operations.md"


def anchors(markdown: str) -> set[str]:
    """The anchors a Markdown renderer (GitHub's) gives the headings of `markdown`."""
    found: set[str] = set()
    for line in markdown.splitlines():
        heading = re.match(r"#{1,6}\s+(.*)", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower())
            found.add(text.replace(" ", "-"))
    return found


def test_every_alert_has_a_runbook_section_in_the_operations_guide() -> None:
    sections = anchors(OPERATIONS.read_text())
    for rule in alerts():
        url = rule["annotations"].get("runbook_url", "")
        path, _, anchor = url.partition("#")
        assert path == "docs/operations.md", f"{rule['alert']}: runbook_url {url!r}"
        assert anchor in sections, f"{rule['alert']}: no section #{anchor} in {OPERATIONS.name}"
        assert anchor == rule["alert"].lower()


# Prometheus scrapes the metrics listeners, never the public ports.


def procfile() -> dict[str, str]:
    lines = (DEPLOY.parent / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_the_example_scrapes_the_metrics_listeners_not_the_public_ports() -> None:
    """The web processes' private listeners (the Procfile's WEB_METRICS_PORT for each), the
    worker's and the beat's ports (their defaults in config/settings.py)."""
    processes = procfile()
    public = {re.search(r"--bind \S+:\$\{\w+:-(\d+)\}", processes[p])[1] for p in ("web", "api")}
    listeners = {
        name: re.search(r"WEB_METRICS_PORT=\$\{\w+:-(\d+)\}", processes[name])[1]
        for name in ("web", "api")
    }
    defaults = Settings.from_env({})
    expected = {
        "seatflow-receiver": listeners["web"],
        "seatflow-api": listeners["api"],
        "seatflow-worker": str(defaults.worker_metrics_port),
        "seatflow-beat": str(defaults.beat_metrics_port),
    }
    scraped = {}
    for job in yaml.safe_load(SCRAPE_CONFIG.read_text())["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics"
        [group] = job["static_configs"]
        scraped[job["job_name"]] = {t.rpartition(":")[2] for t in group["targets"]}
    assert scraped == {job: {port} for job, port in expected.items()}
    assert not public & set(expected.values())


# The dashboard: filtered by job and instance, with the payment drift.


def test_every_dashboard_query_follows_the_job_and_instance_variables() -> None:
    variables = {v["name"]: v for v in json.loads(DASHBOARD.read_text())["templating"]["list"]}
    for name in ("job", "instance"):
        assert variables[name]["type"] == "query"
        assert variables[name]["includeAll"] and variables[name]["multi"]
    assert "$job" in variables["instance"]["definition"]
    for expr in dashboard_queries():
        for selector in re.finditer(r"\b(?:seatflow_[a-z0-9_]+|up)\b(\{[^}]*\})?", expr):
            matchers = selector.group(1) or ""
            assert 'job=~"$job"' in matchers, expr
            assert 'instance=~"$instance"' in matchers, expr


def test_the_dashboard_shows_payment_drift_by_reason() -> None:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    drift = [
        panel
        for panel in panels
        for target in panel.get("targets", [])
        if "seatflow_payment_drift_total" in target["expr"]
    ]
    assert drift, "no panel shows seatflow_payment_drift_total"
    assert any("by (reason)" in t["expr"] for p in drift for t in p["targets"])
