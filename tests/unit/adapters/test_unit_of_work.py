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
