"""Every metrics endpoint carries the process's own metrics (`process_*`) and which seatflow
answers (`seatflow_build_info`): the web apps' `/metrics`, alone or summed over gunicorn's
workers, the gunicorn master's private listener, the worker's port and the beat's port,
whether or not that beat leads."""

from __future__ import annotations

import re
import runpy
import socket
import subprocess
import urllib.request
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest

import api
import webhooks
from adapters import gauges
from config import metrics
from config.database import make_engine
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
PROCESS = (
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def web_app(settings: Settings, factory: Callable[[Settings], object]) -> str:
    client = factory(settings).test_client()  # type: ignore[attr-defined]
    response = client.get("/metrics")
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def checkout_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def assert_carries_process_and_build(text: str) -> None:
    for name in PROCESS:
        assert re.search(rf"^{name} ", text, re.M), f"{name} missing"
    version = metadata.version("seatflow")
    line = f'seatflow_build_info{{commit="{checkout_commit()}",version="{version}"}} 1.0'
    assert line in text.splitlines(), text[-2000:]


@pytest.mark.parametrize("factory", [webhooks.create_app, api.create_app])
def test_the_web_apps_metrics_carry_process_and_build(sqlite_settings, factory) -> None:
    assert_carries_process_and_build(web_app(sqlite_settings, factory))


@pytest.mark.parametrize("factory", [webhooks.create_app, api.create_app])
def test_the_web_apps_summed_metrics_carry_process_and_build(
    sqlite_settings, factory, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    summed = sqlite_settings.with_overrides(metrics_multiproc_dir=str(tmp_path))
    assert_carries_process_and_build(web_app(summed, factory))


def test_gunicorns_private_listener_carries_process_and_build(monkeypatch, tmp_path) -> None:
    port = free_port()
    monkeypatch.setenv("WEB_METRICS_PORT", str(port))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("SEATFLOW_ENV", "development")
    runpy.run_path(str(GUNICORN_CONF))["when_ready"](None)
    assert_carries_process_and_build(fetch(port))


@pytest.mark.parametrize("multiprocess_mode", [False, True])
def test_the_workers_port_carries_process_and_build(
    multiprocess_mode, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    port = free_port()
    assert metrics.serve(port, multiprocess_mode)
    assert_carries_process_and_build(fetch(port))


@pytest.mark.parametrize("leading", [True, False])
def test_the_beats_port_carries_process_and_build_leading_or_not(sqlite_settings, leading) -> None:
    port = free_port()
    assert gauges.serve_database_gauges(port, make_engine(sqlite_settings), lambda: leading)
    text = fetch(port)
    assert_carries_process_and_build(text)
    assert ("seatflow_inbox_rows" in text) is leading


def test_the_build_is_unknown_outside_a_checkout(tmp_path) -> None:
    assert metrics.commit_of(tmp_path) == "unknown"


def test_the_commit_is_read_from_a_detached_head_and_from_packed_refs(tmp_path) -> None:
    git = tmp_path / ".git"
    git.mkdir()
    (git / "HEAD").write_text("a" * 40 + "\n")
    assert metrics.commit_of(tmp_path) == "a" * 40
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "packed-refs").write_text(f"# pack-refs with: peeled\n{'b' * 40} refs/heads/main\n")
    assert metrics.commit_of(tmp_path) == "b" * 40
