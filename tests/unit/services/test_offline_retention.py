"""Released offline activations do not pile up: once a released one's file has been expired
for longer than OFFLINE_RELEASED_RETENTION_DAYS it holds nothing (no seat, no valid file)
and beat's hourly job deletes it. Active and revoked ones, and released ones whose file is
recent, are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config.celery import make_celery
from config.settings import Settings
from config.tasks import PRUNE_OFFLINE_ACTIVATIONS
from domain.licenses import OfflineActivation
from services import admin
from tests.fakes import FakeUnitOfWork

NOW = datetime(2027, 6, 1, tzinfo=UTC)


def activation(uow: FakeUnitOfWork, key: str, status: str, expired_days_ago: int) -> str:
    expires = NOW - timedelta(days=expired_days_ago)
    uow.licenses.add(
        OfflineActivation(
            id=f"off_{key}",
            organization_id="org_retention",
            license_type="build-agent",
            machine_id=f"machine-{key}",
            issued_at=expires - timedelta(days=30),
            expires_at=expires,
            status=status,
            version=1,
            signature="sig",
        )
    )
    return f"off_{key}"


def remaining(uow: FakeUnitOfWork) -> set[str]:
    return {a.id for a in uow.licenses.offline}


def test_released_activations_expired_beyond_the_retention_are_pruned_in_batches(uow) -> None:
    pruned = {activation(uow, f"old{n}", "released", 100 + n) for n in range(5)}
    kept = {
        activation(uow, "recent", "released", 10),  # expired, within the retention
        activation(uow, "holding", "released", -5),  # its file still valid: holds a seat
        activation(uow, "active", "active", 200),
        activation(uow, "revoked", "revoked", 200),
    }
    retention = timedelta(days=90)

    assert admin.prune_released_activations(uow, retention, dry_run=True, now=NOW) == 5
    assert remaining(uow) == pruned | kept
    commits = uow.committed
    assert admin.prune_released_activations(uow, retention, batch=2, now=NOW) == 5
    assert uow.committed - commits == 3  # 2 + 2 + 1, one transaction each
    assert remaining(uow) == kept


def test_the_retention_is_a_setting_and_beat_prunes_hourly(tmp_path) -> None:
    assert Settings.from_env({}).offline_released_retention_days == 90
    settings = Settings.from_env(
        {"OFFLINE_RELEASED_RETENTION_DAYS": "30", "SEATFLOW_DATA_DIR": str(tmp_path)}
    )
    assert settings.offline_released_retention_days == 30
    schedule = make_celery(settings).conf.beat_schedule
    [entry] = [e for e in schedule.values() if e["task"] == PRUNE_OFFLINE_ACTIVATIONS]
    assert entry["schedule"] == timedelta(hours=1)


def test_a_retention_below_one_day_is_refused() -> None:
    import pytest

    from config.settings import ConfigError

    with pytest.raises(ConfigError, match="OFFLINE_RELEASED_RETENTION_DAYS"):
        Settings.from_env({"OFFLINE_RELEASED_RETENTION_DAYS": "0"})


def test_the_task_prunes_with_the_configured_retention(monkeypatch) -> None:
    from workers import tasks

    seen = []
    monkeypatch.setattr(
        admin, "prune_released_activations", lambda source, older_than: seen.append(older_than)
    )
    tasks.prune_offline_activations()
    assert seen == [timedelta(days=tasks._settings.offline_released_retention_days)]
