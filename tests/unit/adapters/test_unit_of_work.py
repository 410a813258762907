"""The SQL unit of work refuses to commit what the aggregate recorded but nobody handled."""

from __future__ import annotations

import pytest

from adapters.unit_of_work import SqlUnitOfWork, UnhandledEvents
from config.database import make_engine
from config.settings import Settings
from domain.events import SubscriptionSynced
from domain.model import Organization


def test_commit_with_unhandled_events_is_refused_and_rollback_forgets_them(
    sqlite_settings: Settings,
) -> None:
    uow = SqlUnitOfWork(make_engine(sqlite_settings))
    with uow:
        uow.organizations.add(Organization(id="org_1", name="Acme"))
        uow.commit()
    with uow:
        org = uow.organizations.locked("org_1")
        assert org.events == []  # loaded aggregates start with none
        org.events.append(SubscriptionSynced("org_1", "node_locked", "created:evt_1"))
        with pytest.raises(UnhandledEvents):
            uow.commit()
        uow.rollback()
        assert org.events == []
        uow.commit()


def test_units_of_work_on_one_engine_share_one_session_factory(sqlite_settings: Settings) -> None:
    """`sessionmaker` makes a Session class of its own, whose event dispatch SQLAlchemy sets
    up on first use: one factory a unit of work paid that on every task message and request."""
    engine, other = make_engine(sqlite_settings), make_engine(sqlite_settings)
    sessions = []
    for uow in (SqlUnitOfWork(engine), SqlUnitOfWork(engine), SqlUnitOfWork(other)):
        with uow:
            sessions.append(uow.session)
    first, second, elsewhere = (type(s) for s in sessions)
    assert first is second
    assert elsewhere is not first and sessions[2].get_bind() is other
