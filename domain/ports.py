"""Ports: what the domain's handlers need from the outside world, as Protocols."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.model import Organization


class Clock(Protocol):
    def now(self) -> datetime: ...


class OrganizationRepository(Protocol):
    def add(self, organization: Organization) -> None: ...

    def get(self, organization_id: str, *, lock: bool = False) -> Organization | None: ...

    def get_by_customer(self, customer_id: str, *, lock: bool = False) -> Organization | None: ...


class UnitOfWork(Protocol):
    organizations: OrganizationRepository

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
