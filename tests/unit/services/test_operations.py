"""The operator view's pure parts: reconciliation runs from drift records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.operations import group_runs

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def record(at: datetime, subject: str) -> dict[str, object]:
    return {"created_at": at, "subject": subject, "kind": "estimate", "repaired": False}


def test_records_written_close_together_are_one_run_newest_first() -> None:
    rows = [
        record(T0 + timedelta(minutes=15, seconds=3), "c"),
        record(T0 + timedelta(minutes=15), "b"),
        record(T0 + timedelta(seconds=1), "a2"),
        record(T0, "a1"),
    ]
    runs = group_runs(rows, limit=10)
    assert [[r["subject"] for r in run.records] for run in runs] == [["c", "b"], ["a2", "a1"]]
    assert runs[0].started_at == T0 + timedelta(minutes=15)


def test_only_the_last_runs_are_kept() -> None:
    rows = [record(T0 - timedelta(hours=h), str(h)) for h in range(5)]
    assert len(group_runs(rows, limit=3)) == 3
