"""The PostgreSQL advisory lock the beat holds: one holder at a time, free once released."""

from __future__ import annotations

from adapters.advisory_lock import AdvisoryLock
from config.database import make_engine


def test_one_session_holds_the_lock_until_it_releases_it(pg_settings) -> None:
    engine = make_engine(pg_settings)
    first, second = AdvisoryLock(engine, 42), AdvisoryLock(engine, 42)
    try:
        assert first.held() and first.holding
        assert first.held()  # still held on the same connection
        assert not second.held() and not second.holding
        first.release()
        assert not first.holding
        assert second.held()
        assert not first.held()
    finally:
        first.release()
        second.release()
        engine.dispose()
