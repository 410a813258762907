"""Every broken rule is a named error with a stable machine-readable code."""

from __future__ import annotations


class DomainError(Exception):
    """Base of all rule violations. `code` is stable: clients and tests match on it."""

    code = "domain_error"
    http_status = 422

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__ or self.code)

    @property
    def message(self) -> str:
        return str(self)


class OrganizationNotFound(DomainError):
    """No organization matches the Stripe customer or the organization id."""

    code = "organization_not_found"
    http_status = 404


class UnknownLicenseType(DomainError):
    """The Stripe price does not say which license type it sells."""

    code = "unknown_license_type"


class UnsupportedInterval(DomainError):
    """Only monthly and yearly billing cycles are sold."""

    code = "unsupported_interval"
