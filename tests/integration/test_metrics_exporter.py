"""Two `celery beat` processes: only the one holding the beat lock exports the database's state."""

from __future__ import annotations

import signal
import urllib.request

import pytest

from tests.conftest import env_for
from tests.support import free_port, start_beat, wait_until

pytestmark = pytest.mark.slow
GAUGE = "seatflow_inbox_oldest_unapplied_age_seconds "


def scrape(port: int) -> str | None:
    """The metrics text, or None when nothing answers on `port`."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return str(response.read().decode())
    except OSError:
        return None


def exports(port: int) -> bool:
    return GAUGE in (scrape(port) or "")


def test_only_the_leading_beat_exports_the_database_state_and_a_standby_takes_over(
    tmp_path,
) -> None:
    from adapters import migrations
    from config.celery import make_celery, prepare_broker
    from config.settings import Settings

    settings = Settings.from_env({"SEATFLOW_DATA_DIR": str(tmp_path)})
    migrations.upgrade(settings.database_url)
    prepare_broker(make_celery(settings))
    ports = free_port(), free_port()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = start_beat(env_for(settings, BEAT_METRICS_PORT=str(ports[0])), tmp_path / "a")
    second = None
    try:
        wait_until(lambda: exports(ports[0]), 30)
        second = start_beat(env_for(settings, BEAT_METRICS_PORT=str(ports[1])), tmp_path / "b")
        wait_until(lambda: "standing by" in second.output(), 30)
        standby = scrape(ports[1])  # the standby answers, without the database's state
        assert standby is not None and "seatflow_build_info" in standby
        assert "seatflow_inbox_" not in standby and "seatflow_upgrade" not in standby
        assert exports(ports[0])
        first.stop(signal.SIGKILL)  # the leader dies without cleaning up
        wait_until(lambda: exports(ports[1]), 30)
        assert "seatflow_upgrade_transitions_total" in (scrape(ports[1]) or "")
    finally:
        first.stop()
        if second:
            second.stop()
