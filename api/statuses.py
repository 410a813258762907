"""The HTTP status of each named domain error: the domain says what broke, the edge says how
that reads over HTTP. An error not listed is a broken rule: 422."""

from __future__ import annotations

from domain import errors
from domain.licenses import (
    ActivationNotFound,
    InvalidMachineId,
    LicenseNotFound,
    OfflineSeatsExhausted,
)
from domain.renewal import ChangeAlreadyScheduled, ChangeNotCancelable, ScheduledChangeNotFound

_BY_ERROR: dict[type[errors.DomainError], int] = {
    errors.OrganizationNotFound: 404,
    errors.EstimateNotFound: 404,
    errors.UpgradeNotFound: 404,
    ActivationNotFound: 404,
    LicenseNotFound: 404,
    InvalidMachineId: 400,
    errors.InvalidDiscountCode: 400,
    errors.DiscountNotUsable: 400,  # seatflow's own code or Stripe's promotion code
    errors.NotOwnerOrAdmin: 403,
    errors.UpgradeAlreadyOpen: 409,
    errors.EstimateStale: 409,
    errors.EstimateAlreadyUsed: 409,
    errors.InvalidTransition: 409,
    errors.UpgradeAlreadyPaid: 409,
    errors.SubscriptionPeriodEnded: 409,
    OfflineSeatsExhausted: 409,
    ScheduledChangeNotFound: 404,
    ChangeAlreadyScheduled: 409,
    ChangeNotCancelable: 409,
}


def status_of(error: errors.DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in _BY_ERROR:
            return _BY_ERROR[kind]
    return 422
