"""The unit of work: one transaction, committed explicitly, rolled back otherwise."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from adapters.billing_repository import (
    SqlPaymentMethodRepository,
    SqlReceiptRepository,
    SqlUpgradeHistoryRepository,
)
from adapters.change_repository import SqlScheduledChangeRepository
from adapters.drift import SqlDriftRepository
from adapters.inbox_repository import SqlInboxRepository
from adapters.mapping import start_mappers
from adapters.reporting import SqlReconciliationRepository, SqlSubscriptionRepository
from adapters.repositories import (
    SqlCatalogRepository,
    SqlLicenseRepository,
    SqlMemberRepository,
    SqlOrganizationRepository,
)
from adapters.upgrade_repository import SqlUpgradeRepository
from config import faults
from domain.ports import DuplicateRow


class UnhandledEvents(RuntimeError):
    """A commit was asked for while an aggregate still held events nobody handled."""


Enqueue = Callable[[str, list[Any]], None]
log = logging.getLogger("seatflow.workers")
_local = threading.local()


def _open_units() -> weakref.WeakSet[SqlUnitOfWork]:
    units: weakref.WeakSet[SqlUnitOfWork] | None = getattr(_local, "units", None)
    if units is None:
        units = _local.units = weakref.WeakSet()
    return units


def transaction_open() -> bool:
    """Whether a unit of work of this thread holds an open database transaction (and so,
    maybe, row locks). Nothing may call Stripe then: a slow answer would hold the locks."""
    return any(uow.in_transaction() for uow in list(_open_units()))


def _no_broker(name: str, args: list[Any]) -> None:
    log.info("no broker configured; task left for its beat job", extra={"task": name})


# One session factory an engine. `sessionmaker` makes a Session class of its own, and
# SQLAlchemy sets up a class's event dispatch on its first session: a factory per unit of
# work paid that (about a millisecond of CPU) on every task message and every request.
_FACTORIES: weakref.WeakKeyDictionary[Engine, sessionmaker[Session]] = weakref.WeakKeyDictionary()
_FACTORIES_LOCK = threading.Lock()


def _sessions_of(engine: Engine) -> sessionmaker[Session]:
    found = _FACTORIES.get(engine)
    if found is None:
        with _FACTORIES_LOCK:
            found = _FACTORIES.get(engine)
            if found is None:
                # No autoflush: handlers read before they write, and commit flushes once;
                # flushing before every query was the largest cost of applying an event.
                found = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
                _FACTORIES[engine] = found
    return found


class SqlUnitOfWork:
    """One transaction. Tasks asked for with `enqueue_after_commit` are sent only once the
    commit succeeded, so a message never refers to state that was rolled back."""

    def __init__(self, engine: Engine, enqueue: Enqueue = _no_broker) -> None:
        start_mappers()
        self.engine = engine
        self._enqueue = enqueue
        self._sessions = _sessions_of(engine)
        self._pending: list[tuple[str, list[Any]]] = []

    def __enter__(self) -> SqlUnitOfWork:
        self.session: Session = self._sessions()
        self.organizations = SqlOrganizationRepository(self.session)
        self.inbox = SqlInboxRepository(self.session)
        self.upgrades = SqlUpgradeRepository(self.session)
        self.catalog = SqlCatalogRepository(self.session)
        self.members = SqlMemberRepository(self.session)
        self.licenses = SqlLicenseRepository(self.session)
        self.subscriptions = SqlSubscriptionRepository(self.session)
        self.drift = SqlDriftRepository(self.session)
        self.reconciliation = SqlReconciliationRepository(self.session)
        self.payment_methods = SqlPaymentMethodRepository(self.session)
        self.receipts = SqlReceiptRepository(self.session)
        self.history = SqlUpgradeHistoryRepository(self.session)
        self.changes = SqlScheduledChangeRepository(self.session)
        _open_units().add(self)
        return self

    def in_transaction(self) -> bool:
        session: Session | None = getattr(self, "session", None)
        return session is not None and session.in_transaction()

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
        _open_units().discard(self)

    def enqueue_after_commit(self, task_name: str, args: list[Any]) -> None:
        self._pending.append((task_name, args))

    def flush(self) -> None:
        """Write what this transaction changed so far, so its next reads see it (the session
        does not flush before queries)."""
        self.session.flush()
        self.organizations.flush_ledgers()
        self.licenses.write()

    def commit(self) -> None:
        unhandled = [e for org in self.organizations.seen for e in org.events]
        if unhandled:
            # What the aggregate recorded must be handled in this transaction (the services'
            # message bus does it); committing without would lose, say, a license version.
            raise UnhandledEvents(f"commit with unhandled events: {unhandled!r}")
        try:
            self.flush()  # what commit would flush, written before the fault point
            faults.reached(faults.AFTER_EFFECT)
            self.session.commit()
        except IntegrityError as exc:  # a unique index refused a row
            raise DuplicateRow(str(exc.orig)) from exc
        faults.reached(faults.AFTER_COMMIT)
        pending, self._pending = self._pending, []
        for name, args in pending:
            try:
                self._enqueue(name, args)
            except Exception as exc:  # the broker is down: a beat job finds the work later
                log.warning("enqueue failed", extra={"task": name, "error": type(exc).__name__})

    def rollback(self) -> None:
        self._pending.clear()
        for org in self.organizations.seen:
            org.collect_events()  # what they said happened, did not
        self.session.rollback()
        # Row locks are gone and what the repositories remembered may not be true any more.
        self.organizations.release()
        self.licenses.forget()
        self.catalog.forget()
