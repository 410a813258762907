"""Fakes written against the domain's ports (`domain.ports`), checked by mypy against them
(tests/fakes/conformance.py): service tests run on these, in memory, cosmicpython style."""

from tests.fakes.gateway import (
    CALLS_UNDER_LOCK,
    GATEWAY_CALLS,
    FakeGateway,
    GuardedGateway,
    open_and_pay,
    open_invoice,
)
from tests.fakes.inbox import FakeInbox
from tests.fakes.unit_of_work import (
    TEST_SIGNER,
    FakeUnitOfWork,
    FixedClock,
    deps_on,
    fake_deps,
    with_gateway,
)

__all__ = [
    "CALLS_UNDER_LOCK",
    "GATEWAY_CALLS",
    "TEST_SIGNER",
    "FakeGateway",
    "FakeInbox",
    "FakeUnitOfWork",
    "FixedClock",
    "GuardedGateway",
    "deps_on",
    "fake_deps",
    "open_and_pay",
    "open_invoice",
    "with_gateway",
]
