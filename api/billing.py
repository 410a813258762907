"""Update the payment method from the pages: the owner or an admin is sent to a Stripe-hosted
page (Checkout in setup mode, or the Billing Portal with `PAYMENT_METHOD_UPDATE=portal`) and
comes back here. No card data passes through seatflow and no script is loaded from Stripe:
the new card arrives as events (services/payment_methods.py).

Templates may ask `card_on_file(org_id)`, `receipt_for(upgrade_id)` and
`has_license(org_id, license_type)`.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for

from api import context
from api.pages import _member
from api.serializers import history as serializers
from config.settings import Settings
from domain.errors import DomainError, NotOwnerOrAdmin
from services import payment_methods, receipts
from web import runtime

bp = Blueprint("billing", __name__)
LOOPBACK = frozenset({"localhost", "127.0.0.1", "[::1]"})


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    def card_on_file(org_id: str) -> dict[str, Any] | None:
        return serializers.card(payment_methods.card_on_file(context.uow(), org_id))

    def receipt_for(upgrade_id: str) -> dict[str, Any] | None:
        return serializers.receipt(receipts.receipt_of(context.uow(), upgrade_id))

    def has_license(org_id: str, license_type: str) -> bool:
        with context.uow() as work:
            return work.licenses.current(org_id, license_type) is not None

    return {"card_on_file": card_on_file, "receipt_for": receipt_for, "has_license": has_license}


def _back(org_id: str, upgrade_id: str | None) -> str:
    """The page to return to: the upgrade's (if it is this organization's) or subscriptions."""
    if upgrade_id:
        with context.uow() as work:
            found = work.upgrades.for_organization(org_id, upgrade_id)
        if found is not None:
            return url_for("pages.upgrade_state", org_id=org_id, upgrade_id=found.id)
    return url_for("pages.subscriptions", org_id=org_id)


def _public_base(settings: Settings) -> str:
    """Where Stripe may send the customer back to: SEATFLOW_PUBLIC_URL (always set in
    production); without it, this request's own address only when its host is vouched for
    (SEATFLOW_TRUSTED_HOSTS, or a loopback name in development). Anything else is refused:
    a Host header is the client's to write."""
    if settings.public_url:
        return str(settings.public_url)
    name = re.sub(r":\d+$", "", request.host)
    if settings.trusted_hosts or name in LOOPBACK:
        return request.host_url.rstrip("/")
    abort(400, "this address is not one seatflow knows as its own; set SEATFLOW_PUBLIC_URL")


@bp.post("/orgs/<org_id>/payment-method")
def update_payment_method(org_id: str) -> Any:
    member = _member(org_id)
    upgrade_id = request.form.get("upgrade_id") or None
    settings = runtime().settings
    base = _public_base(settings)
    done = url_for("billing.payment_method_done", org_id=org_id, upgrade_id=upgrade_id)
    try:
        address = payment_methods.setup_url(
            context.uow(),
            context.deps(),
            member,
            return_url=base + done,
            cancel_url=base + _back(org_id, upgrade_id),
            portal=settings.payment_method_update == "portal",
        )
    except DomainError as exc:
        if isinstance(exc, NotOwnerOrAdmin):
            abort(403, exc.message)
        flash(exc.message, "error")
        return redirect(_back(org_id, upgrade_id))
    return redirect(address, 303)


@bp.get("/orgs/<org_id>/payment-method/done")
def payment_method_done(org_id: str) -> Any:
    _member(org_id)
    flash("Your new card is saved once Stripe confirms it (a few seconds).", "info")
    return redirect(_back(org_id, request.args.get("upgrade_id")))


@bp.get("/api/v1/organizations/<org_id>/payment-method")
def show_payment_method(org_id: str) -> Any:
    """The card on file (brand, last 4, expiry), or null before Stripe has told of one."""
    context.member_of(org_id)
    found = payment_methods.card_on_file(context.uow(), org_id)
    return {"card": serializers.card(found)}


@bp.get("/orgs/<org_id>/upgrades/<upgrade_id>/receipt.json")
def upgrade_receipt(org_id: str, upgrade_id: str) -> Any:
    """For the upgrade page's script: the receipt once `invoice.paid` was applied."""
    _member(org_id)
    with context.uow() as work:
        if work.upgrades.for_organization(org_id, upgrade_id) is None:
            abort(404)
    return {"receipt": serializers.receipt(receipts.receipt_of(context.uow(), upgrade_id))}
