"""Two `celery beat` processes: one schedules, the other stands by and takes over."""

from __future__ import annotations

import signal

import pytest

from tests.conftest import env_for
from tests.support import start_beat, wait_until

pytestmark = pytest.mark.slow
SENT = "Sending due task"


def test_only_one_beat_schedules_and_a_standby_takes_over(pg_settings, tmp_path) -> None:
    env = env_for(pg_settings.with_overrides(data_dir=tmp_path), SWEEP_INTERVAL_SECONDS="1")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = start_beat(env, tmp_path / "a")
    wait_until(lambda: SENT in first.output(), 30)
    second = start_beat(env, tmp_path / "b")
    try:
        wait_until(lambda: "standing by" in second.output(), 30)
        sends = first.output().count(SENT)
        wait_until(lambda: first.output().count(SENT) >= sends + 3, 30)
        assert SENT not in second.output()
        first.stop(signal.SIGKILL)  # the leader dies without cleaning up
        wait_until(lambda: SENT in second.output(), 30)
        assert "beat lock acquired" in second.output()
    finally:
        first.stop()
        second.stop()


def test_on_sqlite_a_file_lock_does_the_same(tmp_path) -> None:
    env = env_for(pg_settings_sqlite(tmp_path), SWEEP_INTERVAL_SECONDS="1")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = start_beat(env, tmp_path / "a")
    second = None
    try:
        wait_until(lambda: SENT in first.output(), 30)
        second = start_beat(env, tmp_path / "b")
        wait_until(lambda: "standing by" in second.output(), 30)
        first.stop()
        wait_until(lambda: SENT in second.output(), 30)
    finally:
        first.stop()
        if second:
            second.stop()


def pg_settings_sqlite(tmp_path):
    from adapters import migrations
    from config.celery import make_celery, prepare_broker
    from config.settings import Settings

    settings = Settings.from_env({"SEATFLOW_DATA_DIR": str(tmp_path)})
    migrations.upgrade(settings.database_url)
    prepare_broker(make_celery(settings))
    return settings
