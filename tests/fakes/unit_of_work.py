"""The unit of work in memory, and what handlers need besides it (a clock, a signer)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.errors import explain
from adapters.license_signer import LicenseSigner
from adapters.stripe_door import StripeReads
from domain.catalog import CatalogPrice
from domain.model import Member, Organization
from domain.ports import Clock, DuplicateRow
from domain.renewal import PENDING
from domain.upgrades import OPEN_STATES
from inbox.origin import Origin
from services.deps import Deps
from tests.fakes.gateway import FAKE_TRANSACTION_OPEN, FakeGateway, GuardedGateway
from tests.fakes.inbox import FakeInbox
from tests.fakes.repositories import (
    FakeCatalog,
    FakeDrift,
    FakeHistory,
    FakeLicenses,
    FakeMembers,
    FakeOrganizations,
    FakePaymentMethods,
    FakeReceipts,
    FakeReconciliation,
    FakeScheduledChanges,
    FakeSubscriptions,
    FakeUpgrades,
)


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2022, 1, 11, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


TEST_SIGNER = LicenseSigner(Ed25519PrivateKey.generate())


def deps_on(
    gateway: Any,
    clock: Clock,
    *,
    origin: Origin | None = None,
    verify_by_fetch: bool = False,
) -> Deps:
    """The handlers' dependencies as bootstrap builds them, over `gateway` (guarded: no call
    under a transaction), Stripe's objects read through the door over the same gateway."""
    guarded = GuardedGateway(gateway)
    origin = origin or Origin()
    return Deps(
        gateway=guarded,
        door=StripeReads(guarded, origin, verify_by_fetch),
        clock=clock,
        signer=TEST_SIGNER,
        origin=origin,
        explain=explain,
    )


def with_gateway(deps: Deps, gateway: Any) -> Deps:
    """`deps` with another gateway, its door reading through it."""
    guarded = GuardedGateway(gateway)
    verify = deps.door.verify_by_fetch if isinstance(deps.door, StripeReads) else False
    return replace(deps, gateway=guarded, door=StripeReads(guarded, deps.origin, verify))


def fake_deps(
    clock: FixedClock | None = None,
    gateway: FakeGateway | None = None,
    *,
    origin: Origin | None = None,
    verify_by_fetch: bool = False,
) -> Deps:
    """`deps_on` the fake gateway and a fixed clock."""
    return deps_on(
        gateway or FakeGateway(),
        clock or FixedClock(),
        origin=origin,
        verify_by_fetch=verify_by_fetch,
    )


_OPEN_UNITS: list[FakeUnitOfWork] = []
FAKE_TRANSACTION_OPEN.append(lambda: any(u.in_transaction for u in _OPEN_UNITS))


class FakeUnitOfWork:
    """`domain.ports.UnitOfWork` in memory. Like the SQL one it sends the tasks asked for only
    after a commit, refuses to commit while an aggregate holds unhandled events, and refuses
    with `DuplicateRow` what the tables' unique indexes refuse (a second open upgrade or
    pending change of a subscription, an idempotency key used twice). Objects are kept, not
    copied: a rollback forgets the tasks, not what a handler changed in memory (tests of
    rollback use a database)."""

    # `with` blocks entered and not yet left (a task run at once, within a commit, enters
    # the same unit of work again)
    depth: int

    def __init__(
        self,
        organizations: Iterable[Organization] = (),
        prices: Iterable[CatalogPrice] = (),
        members: Iterable[Member] = (),
        enqueue: Callable[[str, list[Any]], None] | None = None,
    ) -> None:
        self.organizations = FakeOrganizations(organizations)
        self.catalog = FakeCatalog(prices)
        self.members = FakeMembers(members)
        self.licenses = FakeLicenses()
        self.upgrades = FakeUpgrades()
        self.changes = FakeScheduledChanges()
        self.inbox = FakeInbox()
        self.subscriptions = FakeSubscriptions(self.organizations)
        self.drift = FakeDrift()
        self.reconciliation = FakeReconciliation(self.upgrades, self.drift)
        self.payment_methods = FakePaymentMethods()
        self.receipts = FakeReceipts()
        self.history = FakeHistory(self.upgrades)
        self.committed = 0
        self.rolled_back = 0
        self.sent: list[tuple[str, list[Any]]] = []
        self._pending: list[tuple[str, list[Any]]] = []
        self.enqueue = enqueue  # what sends a task after the commit (`sent` records it too)
        self.depth = 0

    @property
    def in_transaction(self) -> bool:
        return self.depth > 0

    def __enter__(self) -> FakeUnitOfWork:
        self.depth += 1
        _OPEN_UNITS.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._pending.clear()
        self.depth -= 1
        _OPEN_UNITS.remove(self)

    def enqueue_after_commit(self, task_name: str, args: list[Any]) -> None:
        self._pending.append((task_name, args))

    def flush(self) -> None:
        self.organizations.flush_ledgers()

    def commit(self) -> None:
        if any(org.events for org in self.organizations.seen):
            raise AssertionError("commit with unhandled events")
        self._check_unique()
        self.flush()
        self.committed += 1
        pending, self._pending = self._pending, []
        self.sent.extend(pending)
        if self.enqueue is not None:
            # Committed: the transaction is over for what the tasks run at once do.
            held, self.depth = self.depth, 0
            try:
                for name, args in pending:
                    self.enqueue(name, args)
            finally:
                self.depth = held

    def rollback(self) -> None:
        self.rolled_back += 1
        self._pending.clear()
        for org in self.organizations.seen:
            org.collect_events()  # what they said happened, did not

    def _check_unique(self) -> None:
        """The unique indexes of the upgrades and scheduled changes tables."""
        upgrades = list(self.upgrades.items.values())
        _unique([(u.organization_id, u.license_type) for u in upgrades if u.state in OPEN_STATES])
        _unique([(u.organization_id, u.idempotency_key) for u in upgrades if u.idempotency_key])
        changes = self.changes.items.values()
        _unique([(c.organization_id, c.license_type) for c in changes if c.state in PENDING])


def _unique(keys: list[tuple[str, str | None]]) -> None:
    if len(set(keys)) != len(keys):
        raise DuplicateRow(f"a unique index refuses a second row of {keys!r}")
