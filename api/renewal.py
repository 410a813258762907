"""Changes at renewal: the org API (`/api/v1/organizations/{org}/scheduled-changes`) and the
pages' form. Views translate between requests and the handlers of
`services.upgrades.renewal`; the rules live in `domain.renewal`."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from api import context, validation
from api.context import body, deps, field, member_of, uow
from api.errors import ApiError
from api.pages import _member, _require_upgrader, _subscription
from api.serializers import renewal as serializers
from domain.errors import DomainError, OneLicenseTypePerUpgrade
from domain.money import format_money
from domain.ports import ChargeUnavailable
from domain.renewal import CancelScheduledChange, ScheduleChange, ScheduledChangeNotFound
from services.upgrades import renewal

bp = Blueprint("renewal", __name__)
API = "/api/v1/organizations/<org_id>/scheduled-changes"


@bp.before_request
def _check_csrf() -> None:
    if request.method != "POST" or request.path.startswith("/api/"):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
    if not hmac.compare_digest(sent, session.get("csrf", "") or "\0"):
        abort(400, "the form expired; reload the page")


# -- the org API ---------------------------------------------------------------------------


@bp.get(API)
def list_changes(org_id: str) -> Any:
    member_of(org_id)
    found = renewal.changes_of(uow(), org_id)
    return {"scheduled_changes": [serializers.change(c) for c in found]}


@bp.post(API)
def schedule(org_id: str) -> Any:
    member = member_of(org_id)
    data = body()
    if isinstance(data.get("license_type"), list) or "license_types" in data:
        raise OneLicenseTypePerUpgrade("a change at renewal changes exactly one license type")
    cmd = ScheduleChange(
        organization_id=org_id,
        member_id=member.id,
        license_type=field(data, "license_type", str),
        seats=validation.seats(field(data, "seats", int)),
        interval=validation.interval(field(data, "interval", str)),
        tier=field(data, "tier", str, required=False) or None,
    )
    return serializers.change(renewal.schedule_change(cmd, uow(), deps())), 202


@bp.get(f"{API}/<change_id>")
def show(org_id: str, change_id: str) -> Any:
    member_of(org_id)
    with uow() as work:
        found = work.changes.for_organization(org_id, change_id)
    if found is None:
        raise ScheduledChangeNotFound(f"no scheduled change {change_id!r}")
    return serializers.change(found)


@bp.post(f"{API}/<change_id>/cancel")
def cancel(org_id: str, change_id: str) -> Any:
    member = member_of(org_id)
    cmd = CancelScheduledChange(org_id, member.id, change_id)
    return serializers.change(renewal.cancel_change(cmd, uow(), deps()))


# -- the pages -----------------------------------------------------------------------------


def _lower_tiers(license_type: str, tier: str) -> list[dict[str, Any]]:
    """Today's tier and the ones ranked below it, with their per-seat prices."""
    with context.uow() as work:
        catalog = work.catalog.load()
    ranks = {p.tier: p.rank for p in catalog if p.license_type == license_type}
    floor = ranks.get(tier, 1)
    names = sorted((t for t, r in ranks.items() if r <= floor), key=lambda t: -ranks[t])
    return [
        {
            "tier": name,
            "current": name == tier,
            "prices": [
                {"interval": p.interval, "unit_amount": p.unit_amount, "currency": p.currency}
                for p in catalog
                if (p.license_type, p.tier) == (license_type, name)
            ],
        }
        for name in names
    ]


@bp.get("/orgs/<org_id>/renewal/<license_type>")
def renewal_form(org_id: str, license_type: str) -> Any:
    member = _member(org_id)
    _require_upgrader(member)
    sub = _subscription(org_id, license_type)
    return render_template(
        "renewal.html",
        org_id=org_id,
        sub=sub,
        tiers=_lower_tiers(license_type, sub["tier"]),
    )


@bp.post("/orgs/<org_id>/renewal/<license_type>")
def renewal_schedule(org_id: str, license_type: str) -> Any:
    member = _member(org_id)
    _require_upgrader(member)
    form = request.form
    try:
        cmd = ScheduleChange(
            org_id,
            member.id,
            license_type,
            validation.seats(form.get("seats", "")),
            validation.interval(form.get("interval", "")),
            validation.text("tier", form.get("tier", "").strip() or None, False),
        )
        change = renewal.schedule_change(cmd, context.uow(), context.deps())
    except (ApiError, DomainError) as exc:
        flash(exc.message, "error")
        return redirect(url_for("renewal.renewal_form", org_id=org_id, license_type=license_type))
    flash(
        f"Scheduled for {change.effective_at:%Y-%m-%d}: {change.seats} seats, "
        f"{'annual' if change.interval == 'year' else 'monthly'}, {change.tier}; next invoice "
        f"{format_money(change.next_invoice_amount, change.currency)}. Nothing is charged or "
        "refunded now.",
        "info",
    )
    return redirect(url_for("pages.subscriptions", org_id=org_id))


@bp.post("/orgs/<org_id>/scheduled-changes/<change_id>/cancel")
def renewal_cancel(org_id: str, change_id: str) -> Any:
    member = _member(org_id)
    _require_upgrader(member)
    try:
        cmd = CancelScheduledChange(org_id, member.id, change_id)
        renewal.cancel_change(cmd, context.uow(), context.deps())
    except DomainError as exc:
        flash(exc.message, "error")
    except ChargeUnavailable:
        flash("Stripe is briefly unavailable: nothing was canceled; try again.", "error")
    else:
        flash(
            "The change scheduled for the renewal was canceled: the renewal bills today's terms.",
            "info",
        )
    return redirect(url_for("pages.subscriptions", org_id=org_id))
