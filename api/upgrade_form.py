"""The upgrade form without JavaScript: post → redirect → page.

*Pay* on a form without an estimate (no script ran) asks for one and shows it on the form;
a stale estimate is replaced by a fresh one for the same choice. Either way the person's
inputs are kept (from the estimate, or from the query string when it was refused).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import flash, redirect, url_for

from api import context, validation
from api.errors import ApiError
from api.serializers import upgrades as serializers
from domain.commands import RequestEstimate
from domain.errors import DomainError
from domain.model import Member
from domain.ports import ChargeUnavailable
from domain.upgrades import Estimate
from services.upgrades import request as upgrade_request

FIELDS = ("seats", "interval", "tier", "discount_code")
UNREACHABLE = "Stripe could not be reached to check the discount code: please try again."


def request_from_form(
    org_id: str, member: Member, license_type: str, form: Mapping[str, str]
) -> RequestEstimate:
    """The form's choice as a command (ApiError for malformed input)."""
    return RequestEstimate(
        org_id,
        member.id,
        license_type,
        validation.seats(form.get("seats", "")),
        validation.interval(form.get("interval", "")),
        validation.text("discount_code", form.get("discount_code", "").strip() or None, False),
        validation.text("tier", form.get("tier", "").strip() or None, False),
    )


def _form_url(org_id: str, license_type: str, query: Mapping[str, str]) -> str:
    url = url_for("pages.upgrade_form", org_id=org_id, license_type=license_type)
    return f"{url}?{urlencode(query)}" if query else url


def estimate_then_form(
    org_id: str, member: Member, license_type: str, form: Mapping[str, str]
) -> Any:
    """Estimate the form's choice and show it on the form (or the refusal, inputs kept)."""
    try:
        cmd = request_from_form(org_id, member, license_type, form)
        found = upgrade_request.request_estimate(cmd, context.uow(), context.deps())
    except (ApiError, DomainError, ChargeUnavailable) as exc:
        # Stripe unreachable: a promotion code could not be looked up; nothing was asked.
        flash(exc.message if not isinstance(exc, ChargeUnavailable) else UNREACHABLE, "error")
        kept = {k: form.get(k, "") for k in FIELDS if form.get(k)}
        return redirect(_form_url(org_id, license_type, kept))
    return redirect(_form_url(org_id, license_type, {"estimate": found.id}))


def fresh_for(org_id: str, member: Member, license_type: str, stale_id: str) -> Any:
    """After a stale-estimate refusal: a fresh estimate of the same choice, on the form."""
    with context.uow() as work:
        stale = work.upgrades.estimate(org_id, stale_id)
    if stale is None:
        return redirect(_form_url(org_id, license_type, {}))
    flash("The estimate expired: here is a fresh one. Check it, then pay.", "error")
    choice = {"seats": str(stale.seats), "interval": stale.interval, "tier": stale.tier}
    return estimate_then_form(
        org_id, member, license_type, choice | {"discount_code": stale.discount_code or ""}
    )


def shown_estimate(org_id: str, license_type: str, estimate_id: str | None) -> Estimate | None:
    """The open estimate named in the form's URL, if it belongs to this form."""
    if not estimate_id:
        return None
    with context.uow() as work:
        found = work.upgrades.estimate(org_id, estimate_id)
    if found is None or found.license_type != license_type or found.status != "open":
        return None
    return found


def form_inputs(
    sub: Mapping[str, Any], estimate: Estimate | None, args: Mapping[str, str]
) -> dict[str, Any]:
    """What the form's inputs hold: the shown estimate's choice, else the kept inputs, else
    today's subscription."""
    if estimate is not None:
        shown = serializers.estimate(estimate)
        return {
            "seats": estimate.seats,
            "interval": estimate.interval,
            "tier": estimate.tier,
            "discount_code": estimate.discount_code or "",
            "estimate": shown,
        }
    return {
        "seats": args.get("seats") or sub["seats"],
        "interval": args.get("interval") or sub["interval"],
        "tier": args.get("tier") or sub["tier"],
        "discount_code": args.get("discount_code", ""),
        "estimate": None,
    }
