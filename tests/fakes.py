"""Fakes written against the domain's ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.license_signer import LicenseSigner
from domain.ports import ChargeResult, SubscriptionChange
from services.deps import Deps


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2022, 1, 11, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


@dataclass
class FakeGateway:
    """Records what would be sent to Stripe; declines when told to."""

    decline: str | None = None
    action_url: str | None = None  # with `decline`: the card needs 3-D Secure
    charges: list[dict[str, Any]] = field(default_factory=list)
    changes: list[SubscriptionChange] = field(default_factory=list)
    voided: list[str] = field(default_factory=list)
    refunds: list[tuple[str, int]] = field(default_factory=list)
    void_error: Exception | None = None  # raised by void_invoice when set
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # what Stripe has now
    fetched: list[tuple[str, str]] = field(default_factory=list)

    def charge(self, **kwargs: Any) -> ChargeResult:
        self.charges.append(kwargs)
        invoice_id = f"in_{kwargs['upgrade_id']}"
        return ChargeResult(
            invoice_id, paid=self.decline is None, failure=self.decline, action_url=self.action_url
        )

    def update_subscription(self, change: SubscriptionChange) -> None:
        self.changes.append(change)

    def void_invoice(self, *, upgrade_id: str, invoice_id: str) -> str:
        if self.void_error is not None:
            raise self.void_error
        self.voided.append(invoice_id)
        return "void"

    def refund_invoice(self, *, upgrade_id: str, invoice_id: str, amount: int) -> str:
        self.refunds.append((invoice_id, amount))
        return f"re_{invoice_id}"

    def retrieve(self, object_type: str, object_id: str) -> dict[str, Any]:
        self.fetched.append((object_type, object_id))
        return self.objects[object_id]


TEST_SIGNER = LicenseSigner(Ed25519PrivateKey.generate())


def fake_deps(clock: FixedClock | None = None, gateway: FakeGateway | None = None) -> Deps:
    return Deps(gateway=gateway or FakeGateway(), clock=clock or FixedClock(), signer=TEST_SIGNER)
