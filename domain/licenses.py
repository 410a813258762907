"""Licenses: what an organization may use, always consistent with what was paid.

A subscription's license is re-issued exactly once per cause (upgrade applied, renewal paid,
trial converted, seats or interval changed by Stripe or reconciliation) and revoked when the
subscription is canceled. History is append-only: a new version supersedes the previous
one, which stays readable.

Offline licenses bind one machine to one seat of a node-locked, annual, active subscription
and expire at the cycle's end; active ones never exceed the seats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from domain.errors import DomainError


class LicenseStatus(StrEnum):
    CURRENT = "current"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


class LicenseKind(StrEnum):
    """What a license file is: a subscription's license, or one machine's offline license."""

    SUBSCRIPTION = "subscription"
    OFFLINE = "offline"


class ActivationStatus(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    REVOKED = "revoked"


class OfflineNotAllowed(DomainError):
    """Only node-locked and annual subscriptions can produce offline licenses."""

    code = "offline_requires_node_locked_annual"


class OfflineSeatsExhausted(DomainError):
    """Every seat already has an active offline license; release one first."""

    code = "offline_seats_exhausted"


class ActivationNotFound(DomainError):
    """No such offline license for this organization."""

    code = "offline_license_not_found"


class LicenseNotFound(DomainError):
    """No such license for this organization."""

    code = "license_not_found"


class InvalidMachineId(DomainError):
    """A machine id is 1 to 64 letters, digits, '.', '_', ':' or '-' (it is signed into the
    file and names the download, so it carries no quotes, spaces or line breaks)."""

    code = "invalid_machine_id"


MACHINE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def check_machine_id(machine_id: str) -> str:
    """The machine id as bound into offline licenses, or InvalidMachineId."""
    if not MACHINE_ID.fullmatch(machine_id):
        raise InvalidMachineId(
            "a machine id is 1 to 64 letters, digits, '.', '_', ':' or '-',"
            " starting with a letter or digit"
        )
    return machine_id


class OfflineSubject(Protocol):
    """What the offline rules read of a subscription (`domain.model.Subscription`)."""

    @property
    def offline_allowed(self) -> bool: ...

    @property
    def status(self) -> str: ...


@dataclass(eq=False)
class License:
    id: str
    organization_id: str
    license_type: str
    seats: int
    interval: str
    valid_until: datetime
    version: int
    issued_at: datetime
    cause: str
    status: str = LicenseStatus.CURRENT.value
    signature: str = ""

    def claims(self) -> dict[str, object]:
        """The signed content of the license file."""
        return {
            "kind": LicenseKind.SUBSCRIPTION.value,
            "license_id": self.id,
            "organization_id": self.organization_id,
            "license_type": self.license_type,
            "seats": self.seats,
            "interval": self.interval,
            "valid_until": _iso(self.valid_until),
            "version": self.version,
            "issued_at": _iso(self.issued_at),
            "cause": self.cause,
            "revoked": self.status == LicenseStatus.REVOKED,
        }


@dataclass(eq=False)
class OfflineActivation:
    id: str
    organization_id: str
    license_type: str
    machine_id: str
    issued_at: datetime
    expires_at: datetime
    status: str = ActivationStatus.ACTIVE.value
    version: int = 1
    signature: str = ""

    @property
    def active(self) -> bool:
        return self.status == ActivationStatus.ACTIVE

    def claims(self) -> dict[str, object]:
        return {
            "kind": LicenseKind.OFFLINE.value,
            "license_id": self.id,
            "organization_id": self.organization_id,
            "license_type": self.license_type,
            "machine_id": self.machine_id,
            "issued_at": _iso(self.issued_at),
            "expires_at": _iso(self.expires_at),
            "version": self.version,
        }


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def valid_until(cycle_end: datetime, grace: timedelta) -> datetime:
    return cycle_end + grace


def check_offline_allowed(sub: OfflineSubject) -> None:
    if not sub.offline_allowed:
        raise OfflineNotAllowed(
            "offline licenses need a node-locked subscription on annual billing"
        )
    if sub.status != "active":  # trialing or canceled: no offline license
        raise OfflineNotAllowed(f"the subscription is {sub.status}, not active")


def check_seat_free(active: int, seats: int) -> None:
    if active >= seats:
        raise OfflineSeatsExhausted(f"all {seats} seat(s) have an active offline license")
