"""Metrics are not for the public: the web apps can hide /metrics (a private listener of
the gunicorn master serves them instead) and the worker listens on loopback by default."""

from __future__ import annotations

import runpy
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import api
import webhooks
from config.settings import Settings

GUNICORN_CONF = Path(__file__).parents[3] / "deploy" / "gunicorn.conf.py"


@pytest.mark.parametrize("factory", [webhooks.create_app, api.create_app])
def test_web_metrics_public_false_hides_metrics_on_the_app(sqlite_settings, factory) -> None:
    hidden = factory(sqlite_settings.with_overrides(web_metrics_public=False)).test_client()
    assert hidden.get("/metrics").status_code == 404
    assert factory(sqlite_settings).test_client().get("/metrics").status_code == 200


def test_the_settings_read_the_metrics_exposure() -> None:
    settings = Settings.from_env({"WEB_METRICS_PUBLIC": "false", "WEB_METRICS_PORT": "9810"})
    assert (settings.web_metrics_public, settings.web_metrics_port) == (False, 9810)
    default = Settings.from_env({})
    assert (default.web_metrics_public, default.web_metrics_port) == (True, 0)
    assert (default.web_metrics_host, default.worker_metrics_host) == ("127.0.0.1", "127.0.0.1")


def test_the_worker_serves_its_metrics_on_loopback_by_default(monkeypatch) -> None:
    bound: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        "prometheus_client.start_http_server",
        lambda port, addr, registry: bound.append((port, addr)),
    )
    from workers import tasks

    tasks._serve_metrics()
    assert bound == [(9808, "127.0.0.1")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gunicorns_master_serves_the_groups_metrics_on_web_metrics_port(
    monkeypatch, tmp_path
) -> None:
    port = _free_port()
    monkeypatch.setenv("WEB_METRICS_PORT", str(port))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("SEATFLOW_ENV", "development")
    runpy.run_path(str(GUNICORN_CONF))["when_ready"](None)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200


def test_production_keeps_metrics_off_the_public_port_unless_told() -> None:
    from tests.unit.config.test_settings import PRODUCTION

    assert Settings.from_env(PRODUCTION).web_metrics_public is False
    told = Settings.from_env({**PRODUCTION, "WEB_METRICS_PUBLIC": "true"})
    assert told.web_metrics_public is True
    assert Settings.from_env({}).web_metrics_public is True  # development


@pytest.mark.parametrize("factory", [webhooks.create_app, api.create_app])
def test_a_production_app_has_no_public_metrics_by_default(sqlite_settings, factory) -> None:
    from tests.unit.config.test_settings import PRODUCTION

    read = Settings.from_env(PRODUCTION)
    settings = sqlite_settings.with_overrides(web_metrics_public=read.web_metrics_public)
    assert factory(settings).test_client().get("/metrics").status_code == 404
