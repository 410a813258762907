"""The unit of work: one transaction, committed explicitly, rolled back otherwise."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from workers.orm import start_mappers
from workers.repositories import SqlInboxRepository, SqlOrganizationRepository


class SqlUnitOfWork:
    def __init__(self, engine: Engine) -> None:
        start_mappers()
        self.engine = engine
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)

    def __enter__(self) -> SqlUnitOfWork:
        self.session: Session = self._sessions()
        self.organizations = SqlOrganizationRepository(self.session)
        self.inbox = SqlInboxRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
