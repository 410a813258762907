"""The leading beat's gauges count the database's rows, read through the repositories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, insert, text

from adapters.gauges import DatabaseCollector
from adapters.orm import drift_records
from cli import samples
from inbox.table import inbox, inbox_row
from tests.conftest import clean


def _rows(engine: Engine, now: datetime) -> None:
    rows = []
    for n, (state, age) in enumerate([("received", 300), ("queued", 100), ("dead", 50)]):
        event = samples.event("customer.subscription.updated", {"id": f"sub_{n}"})
        row = inbox_row(event, "{}", now - timedelta(seconds=age), 0)
        rows.append(row | {"state": state})
    with engine.begin() as conn:
        conn.execute(insert(inbox), rows)
        if engine.dialect.name == "sqlite":  # no upgrade nor estimate is needed here
            conn.execute(text("PRAGMA foreign_keys=OFF"))
        else:
            conn.execute(text("SET session_replication_role = replica"))
        for n, state in enumerate(["paid", "paid", "applied"]):
            conn.execute(
                text(
                    "INSERT INTO upgrades (id, organization_id, license_type, estimate_id,"
                    " from_seats, from_interval, seats, interval, currency, estimate_amount,"
                    " state, created_at, updated_at, charge_attempts, from_tier, tier)"
                    " VALUES (:id, 'org', :id, 'est', 1, 'month', 2, 'month', 'usd',"
                    " 100, :state, :at, :at, 0, 'standard', 'standard')"
                ),
                {"id": f"upg_{n}", "state": state, "at": now},
            )
            conn.execute(
                text(
                    "INSERT INTO upgrade_transitions (upgrade_id, to_state, at, cause)"
                    " VALUES (:id, :state, :at, 'test')"
                ),
                {"id": f"upg_{n}", "state": state, "at": now},
            )
        for kind, flagged in [("estimate", True), ("estimate", False), ("saga", False)]:
            conn.execute(
                insert(drift_records).values(
                    kind=kind, subject="s", cause="c", flagged=flagged, created_at=now
                )
            )


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    if request.param == "sqlite":
        return create_engine(request.getfixturevalue("sqlite_settings").database_url)
    found = create_engine(request.getfixturevalue("postgres_url"))
    clean(found)
    return found


def test_the_gauges_count_inbox_upgrades_transitions_and_drift_by_their_label(engine) -> None:
    now = datetime.now(UTC)
    _rows(engine, now)
    found = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in DatabaseCollector(engine).collect()
        for s in family.samples
    }
    assert found[("seatflow_inbox_rows", (("state", "received"),))] == 1
    assert found[("seatflow_inbox_rows", (("state", "queued"),))] == 1
    assert found[("seatflow_inbox_rows", (("state", "dead"),))] == 1
    assert found[("seatflow_inbox_rows", (("state", "applied"),))] == 0
    assert found[("seatflow_upgrades", (("state", "paid"),))] == 2
    assert found[("seatflow_upgrades", (("state", "applied"),))] == 1
    assert found[("seatflow_upgrade_transitions_total", (("to", "paid"),))] == 2
    assert found[("seatflow_drift_records_total", (("kind", "estimate"),))] == 2
    assert found[("seatflow_drift_records_flagged_total", (("kind", "estimate"),))] == 1
    assert found[("seatflow_drift_records_flagged_total", (("kind", "saga"),))] == 0
    unapplied = found[("seatflow_inbox_oldest_unapplied_age_seconds", ())]
    dead = found[("seatflow_inbox_oldest_dead_age_seconds", ())]
    assert 300 <= unapplied < 360 and 50 <= dead < 110
    engine.dispose()
