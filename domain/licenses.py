"""Licenses: what an organization may use, always consistent with what was paid.

A subscription's license is re-issued exactly once per cause (upgrade applied, renewal paid,
trial converted, seats or interval changed by Stripe or reconciliation) and revoked when the
subscription is canceled. History is append-only: a new version supersedes the previous
one, which stays readable.

Offline licenses bind one machine to one seat of a node-locked, annual, active subscription.
Their files verify without a network, so a released license keeps its seat until its file
expires; files are short-lived (`OFFLINE_FILE_LIFETIME`, never past the cycle's end) and
renewed while the license is active. Machines holding a valid file never exceed the seats.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from domain.catalog import DEFAULT_TIER
from domain.errors import DomainError
from domain.model import SubscriptionStatus


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


OFFLINE_FILE_LIFETIME = timedelta(days=30)
# A file is re-signed at most this often while active (each renewal is a new version).
OFFLINE_RENEW_STEP = timedelta(days=1)


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


@dataclass(frozen=True)
class LicenseTerms:
    seats: int
    interval: str
    tier: str
    features: tuple[str, ...]
    valid_until: datetime
    revoked: bool


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
    tier: str = DEFAULT_TIER
    features: tuple[str, ...] = ()

    @property
    def terms(self) -> LicenseTerms:
        """What the license grants; two versions with equal terms grant the same."""
        return LicenseTerms(
            seats=self.seats,
            interval=self.interval,
            tier=self.tier,
            features=tuple(self.features),
            valid_until=self.valid_until,
            revoked=self.status == LicenseStatus.REVOKED,
        )

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
            "tier": self.tier,
            "features": list(self.features),
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
    tier: str = DEFAULT_TIER
    features: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.status == ActivationStatus.ACTIVE

    def holds_seat(self, now: datetime) -> bool:
        """Active, or released or revoked with a file that still verifies offline."""
        return self.active or self.expires_at > now

    def renew(self, now: datetime, cycle_end: datetime) -> bool:
        """Move an active license's expiry to a fresh file lifetime; True if it changed (the
        caller signs the new version)."""
        target = offline_expiry(now, cycle_end)
        if not self.active or abs(target - self.expires_at) < OFFLINE_RENEW_STEP:
            return False
        self.expires_at, self.issued_at, self.version = target, now, self.version + 1
        return True

    def take_tier(self, now: datetime, tier: str, features: tuple[str, ...]) -> bool:
        """Follow the subscription's tier; True if it changed (a new version to sign)."""
        if not self.active or (self.tier, self.features) == (tier, features):
            return False
        self.tier, self.features, self.issued_at = tier, features, now
        self.version += 1
        return True

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
            "tier": self.tier,
            "features": list(self.features),
        }


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def valid_until(cycle_end: datetime, grace: timedelta) -> datetime:
    return cycle_end + grace


def offline_refusal(sub: OfflineSubject) -> str | None:
    """Why `sub` gives no offline license now, or None when it does: node-locked on annual
    billing, and active (not in trial, not canceled)."""
    if not sub.offline_allowed:
        return "offline licenses need a node-locked subscription on annual billing"
    if sub.status != SubscriptionStatus.ACTIVE:
        return f"the subscription is {sub.status}, not active"
    return None


def check_offline_allowed(sub: OfflineSubject) -> None:
    refusal = offline_refusal(sub)
    if refusal is not None:
        raise OfflineNotAllowed(refusal)


def offline_expiry(now: datetime, cycle_end: datetime) -> datetime:
    return min(cycle_end, now + OFFLINE_FILE_LIFETIME)


def beyond_seats(activations: Iterable[OfflineActivation], seats: int) -> list[OfflineActivation]:
    """The active offline licenses a subscription of `seats` no longer has room for: the
    ones renewed least recently (their files expire first). They are released: never renewed
    again, their files lapse when they expire, at the latest at the old period's end."""
    active = sorted(
        (a for a in activations if a.active),
        key=lambda a: (a.expires_at, a.issued_at),
        reverse=True,
    )
    return active[max(seats, 0) :]


def check_seat_free(
    activations: Iterable[OfflineActivation], machine_id: str, seats: int, now: datetime
) -> None:
    """A new machine needs a seat no valid file holds; a machine that holds one keeps it."""
    holding = [a for a in activations if a.holds_seat(now)]
    machines = {a.machine_id for a in holding}
    if machine_id in machines or len(machines) < seats:
        return
    frees = min((a.expires_at for a in holding if not a.active), default=None)
    when = f"; a released one frees its seat at {_iso(frees)}" if frees else ""
    raise OfflineSeatsExhausted(
        f"all {seats} seat(s) are held by offline licenses whose files are still valid{when}"
    )
