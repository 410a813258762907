"""Every broken rule is a named error with a stable machine-readable code."""

from __future__ import annotations


class DomainError(Exception):
    """Base of all rule violations. `code` is stable: clients and tests match on it."""

    code = "domain_error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__ or self.code)

    @property
    def message(self) -> str:
        return str(self)


class OrganizationNotFound(DomainError):
    """No organization matches the Stripe customer or the organization id."""

    code = "organization_not_found"


class UnknownLicenseType(DomainError):
    """The Stripe price does not say which license type it sells."""

    code = "unknown_license_type"


class UnsupportedInterval(DomainError):
    """Only monthly and yearly billing cycles are sold."""

    code = "unsupported_interval"


class CurrencyMismatch(DomainError):
    """Prices and discounts of one upgrade must be in one currency."""

    code = "currency_mismatch"


class DiscountNotUsable(DomainError):
    """The discount code given cannot be used for this upgrade (400 in the API)."""

    code = "discount_not_usable"


class DiscountCodeInvalid(DiscountNotUsable):
    """No such discount code."""

    code = "discount_code_invalid"


class InvalidDiscountCode(DomainError):
    """The text given is not a discount code's (see `domain.discounts.canonical_code`)."""

    code = "invalid_discount_code"


class DiscountCodeExists(DomainError):
    """A discount code with that name exists already (codes compare case-insensitively)."""

    code = "discount_code_exists"


class DiscountCodeInactive(DiscountNotUsable):
    """The discount code is not active."""

    code = "discount_code_inactive"


class DiscountCodeExpired(DiscountNotUsable):
    """The discount code has expired."""

    code = "discount_code_expired"


class DiscountCodeExhausted(DiscountNotUsable):
    """The discount code reached its redemption limit."""

    code = "discount_code_exhausted"


class DiscountCodeCurrency(CurrencyMismatch, DiscountNotUsable):
    """The discount code's amount (or its minimum amount) is in another currency than the
    price."""

    code = "discount_code_currency"


class DiscountCodeMinimumAmount(DiscountNotUsable):
    """The amount due before the discount is below the promotion code's minimum."""

    code = "discount_code_minimum_amount"


class DiscountCodeFirstTimeOnly(DiscountNotUsable):
    """The promotion code is only for customers who have never paid."""

    code = "discount_code_first_time_only"


class DiscountCodeOtherCustomer(DiscountNotUsable):
    """The promotion code is restricted to another Stripe customer."""

    code = "discount_code_other_customer"


class DiscountCodeUnsupported(DiscountNotUsable):
    """Stripe's promotion code is of a kind seatflow cannot apply to an upgrade's invoice."""

    code = "discount_code_unsupported"


class PromotionCodeRefused(DiscountNotUsable):
    """Stripe refused the promotion code when the upgrade's invoice was made or paid (it was
    redeemed out, deactivated or expired meanwhile): nothing was charged."""

    code = "promotion_code_refused"


class NotOwnerOrAdmin(DomainError):
    """Only the organization's owner or admins can upgrade."""

    code = "forbidden_role"


class NoLicenseBought(DomainError):
    """Upgrade is possible only once at least one license of this type was bought."""

    code = "no_license_bought"


class OneLicenseTypePerUpgrade(DomainError):
    """One upgrade changes one license type."""

    code = "one_license_type_per_upgrade"


class SeatsCannotDecrease(DomainError):
    """The new total of licenses cannot be lower than the current one."""

    code = "seats_cannot_decrease"


class TierCannotDecrease(DomainError):
    """An upgrade keeps the subscription's tier or moves to a higher one, never lower."""

    code = "tier_cannot_decrease"


class NothingToChange(DomainError):
    """The upgrade must add licenses, switch to annual billing or move to a higher tier."""

    code = "nothing_to_change"


class OnlyMonthlyToAnnual(DomainError):
    """Only monthly subscriptions can switch to annual, never back."""

    code = "only_monthly_to_annual"


class SubscriptionNotUpgradable(DomainError):
    """Only an active or trialing subscription can be upgraded."""

    code = "subscription_not_upgradable"


class UpgradeAlreadyOpen(DomainError):
    """This subscription already has an upgrade that is not finished."""

    code = "upgrade_already_open"


class EstimateStale(DomainError):
    """The estimate expired; fetch a fresh one."""

    code = "estimate_stale"


class EstimateNotFound(DomainError):
    """No such estimate for this organization."""

    code = "estimate_not_found"


class UpgradeNotFound(DomainError):
    """No such upgrade for this organization."""

    code = "upgrade_not_found"


class PriceNotInCatalog(DomainError):
    """The catalog has no price for this license type and interval."""

    code = "price_not_in_catalog"


class InvalidTransition(DomainError):
    """The upgrade cannot move to that state from where it is."""

    code = "invalid_transition"


class UpgradeAlreadyPaid(DomainError):
    """Stripe already took the payment: the upgrade is applied, not canceled."""

    code = "already_paid"


class IdempotencyKeyReused(DomainError):
    """This Idempotency-Key was used for another estimate."""

    code = "idempotency_key_reused"


class SubscriptionPeriodEnded(DomainError):
    """The subscription's period ended and Stripe has not reported the new one yet."""

    code = "subscription_period_ended"


class EstimateAlreadyUsed(DomainError):
    """The estimate was already submitted once; request a fresh one."""

    code = "estimate_already_used"


class BadCatalogEntry(DomainError):
    """A catalog entry lacks a field or holds a value the catalog cannot take."""

    code = "bad_catalog_entry"


class AmountTooLarge(DomainError):
    """The amount is larger than Stripe accepts in one payment; contact sales."""

    code = "amount_too_large"


class CatalogConflict(BadCatalogEntry):
    """An import would leave the stored catalog inconsistent (a rank held by two tiers, a
    tier with two ranks, a higher tier that does not cost more)."""

    code = "catalog_conflict"


class UnknownCurrency(DomainError):
    """A currency whose minor unit seatflow does not know: its amounts cannot be read."""

    code = "unknown_currency"
