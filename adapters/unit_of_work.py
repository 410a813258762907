"""The unit of work: one transaction, committed explicitly, rolled back otherwise."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from adapters.orm import start_mappers
from adapters.repositories import (
    SqlCatalogRepository,
    SqlInboxRepository,
    SqlLicenseRepository,
    SqlMemberRepository,
    SqlOrganizationRepository,
    SqlUpgradeRepository,
)
from config import faults

Enqueue = Callable[[str, list[Any]], None]
log = logging.getLogger("seatflow.workers")


def _no_broker(name: str, args: list[Any]) -> None:
    log.info("no broker configured; task left for its beat job", extra={"task": name})


class SqlUnitOfWork:
    """One transaction. Tasks asked for with `enqueue_after_commit` are sent only once the
    commit succeeded, so a message never refers to state that was rolled back."""

    def __init__(self, engine: Engine, enqueue: Enqueue = _no_broker) -> None:
        start_mappers()
        self.engine = engine
        self._enqueue = enqueue
        # No autoflush: handlers read before they write, and commit flushes once; flushing
        # before every query was the largest cost of applying an event.
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
        self._pending: list[tuple[str, list[Any]]] = []

    def __enter__(self) -> SqlUnitOfWork:
        self.session: Session = self._sessions()
        self.organizations = SqlOrganizationRepository(self.session)
        self.inbox = SqlInboxRepository(self.session)
        self.upgrades = SqlUpgradeRepository(self.session)
        self.catalog = SqlCatalogRepository(self.session)
        self.members = SqlMemberRepository(self.session)
        self.licenses = SqlLicenseRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed, without expiring what was loaded,
        # so callers can still read the objects they got back.
        self._pending.clear()
        self.session.close()

    def enqueue_after_commit(self, task_name: str, args: list[Any]) -> None:
        self._pending.append((task_name, args))

    def commit(self) -> None:
        self.organizations.flush_ledgers()
        self.session.flush()  # what commit would flush, written before the fault point
        faults.reached(faults.AFTER_EFFECT)
        self.session.commit()
        faults.reached(faults.AFTER_COMMIT)
        pending, self._pending = self._pending, []
        for name, args in pending:
            try:
                self._enqueue(name, args)
            except Exception as exc:  # the broker is down: a beat job finds the work later
                log.warning("enqueue failed", extra={"task": name, "error": type(exc).__name__})

    def rollback(self) -> None:
        self._pending.clear()
        self.session.rollback()
