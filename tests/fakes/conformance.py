"""mypy checks each fake against its port here: a fake that drifts from the Protocol (a
method missing, a parameter renamed) fails `mypy`, not a test run later."""

from __future__ import annotations

from adapters.stripe_door import StripeReads
from domain import ports
from inbox.origin import Origin
from tests.fakes import repositories as fakes
from tests.fakes.gateway import FakeGateway
from tests.fakes.inbox import FakeInbox
from tests.fakes.unit_of_work import TEST_SIGNER, FakeUnitOfWork, FixedClock

_uow: ports.UnitOfWork = FakeUnitOfWork()
_gateway: ports.BillingGateway = FakeGateway()
# Stripe's reads in the tests: the door's adapter over the fake gateway's raw reads.
_door: ports.StripeDoor = StripeReads(FakeGateway(), Origin(), False)
_clock: ports.Clock = FixedClock()
_signer: ports.Signer = TEST_SIGNER
_organizations: ports.OrganizationRepository = fakes.FakeOrganizations()
_catalog: ports.CatalogRepository = fakes.FakeCatalog()
_members: ports.MemberRepository = fakes.FakeMembers()
_licenses: ports.LicenseRepository = fakes.FakeLicenses()
_upgrades: ports.UpgradeRepository = fakes.FakeUpgrades()
_changes: ports.ScheduledChangeRepository = fakes.FakeScheduledChanges()
_inbox: ports.InboxRepository = FakeInbox()
_subscriptions: ports.SubscriptionRepository = fakes.FakeSubscriptions(fakes.FakeOrganizations())
_drift: ports.DriftRepository = fakes.FakeDrift()
_reconciliation: ports.ReconciliationRepository = fakes.FakeReconciliation(
    fakes.FakeUpgrades(), fakes.FakeDrift()
)
_payment_methods: ports.PaymentMethodRepository = fakes.FakePaymentMethods()
_receipts: ports.ReceiptRepository = fakes.FakeReceipts()
_history: ports.UpgradeHistoryRepository = fakes.FakeHistory(fakes.FakeUpgrades())
