"""Server-rendered pages for an organization's owner and admins: sign in with a token,
see subscriptions, estimate and pay an upgrade, follow it, manage offline licenses.

Views only translate between forms and the same handlers the JSON API calls; the rules
live in the domain. Every form carries a CSRF token; the session cookie is HttpOnly and
SameSite=Lax.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from api import context, validation
from api import upgrade_form as upgrade_form_views
from api.errors import ApiError
from api.files import download
from api.serializers import upgrades as serializers
from api.statuses import status_of
from api.subscriptions import subscriptions_of, tier_options
from domain.commands import CancelUpgrade, RetryPayment, SubmitUpgrade
from domain.errors import DomainError, EstimateStale
from domain.model import Member
from services import directory
from services import licenses as license_service
from services.upgrades import charge as upgrade_charge
from services.upgrades import request as upgrade_request

bp = Blueprint(
    "pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def _member(org_id: str | None = None) -> Member:
    member_id = session.get("member_id")
    if not member_id:
        abort(redirect(url_for("pages.signin")))
    with context.uow() as work:
        member = work.members.get(member_id)
    if member is None or not _session_current(member):
        session.clear()
        abort(redirect(url_for("pages.signin")))
    if org_id is not None and member.organization_id != org_id:
        abort(404)
    return member


def _session_current(member: Member) -> bool:
    """Not removed, not signed out since (the session version), its token not expired."""
    if member.removed_at is not None or session.get("sv") != member.session_version:
        return False
    expires = session.get("exp")
    return expires is None or context.deps().clock.now().timestamp() < float(expires)


@bp.get("/")
def home() -> Any:
    if session.get("member_id"):
        return redirect(url_for("pages.subscriptions", org_id=session["org_id"]))
    return redirect(url_for("pages.signin"))


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    if request.method == "POST":
        found = context.signed_in_by(request.form.get("token", ""))
        if found is None:
            flash("That token is not valid.", "error")
            return render_template("signin.html"), 401
        member, expires = found
        session.clear()
        session.update(
            member_id=member.id,
            org_id=member.organization_id,
            sv=member.session_version,
            exp=expires.timestamp() if expires else None,
        )
        if member.can_operate:
            return redirect(url_for("operator.inbox"))
        return redirect(url_for("pages.subscriptions", org_id=member.organization_id))
    return render_template("signin.html")


@bp.post("/signout")
def signout() -> Any:
    if session.get("member_id"):  # ends this cookie and any copy of it, server-side
        directory.end_sessions(context.uow(), str(session["member_id"]))
    session.clear()
    return redirect(url_for("pages.signin"))


@bp.get("/orgs/<org_id>/subscriptions")
def subscriptions(org_id: str) -> Any:
    member = _member(org_id)
    data = subscriptions_of(org_id)
    return render_template(
        "subscriptions.html",
        member=member,
        org=data["organization"],
        subscriptions=data["subscriptions"],
    )


def _subscription(org_id: str, license_type: str) -> dict[str, Any]:
    rows: list[dict[str, Any]] = subscriptions_of(org_id)["subscriptions"]
    found = next((s for s in rows if s["license_type"] == license_type), None)
    if found is None:
        abort(404)
    return found


def _require_upgrader(member: Member) -> None:
    if not member.can_upgrade:
        abort(403, "Only the organization's owner or admins can upgrade.")


@bp.get("/orgs/<org_id>/upgrade/<license_type>")
def upgrade_form(org_id: str, license_type: str) -> Any:
    member = _member(org_id)
    _require_upgrader(member)
    sub = _subscription(org_id, license_type)
    shown = upgrade_form_views.shown_estimate(org_id, license_type, request.args.get("estimate"))
    return render_template(
        "upgrade.html",
        org_id=org_id,
        sub=sub,
        member=member,
        tiers=tier_options(license_type, sub["tier"]),
        chosen=upgrade_form_views.form_inputs(sub, shown, request.args),
    )


@bp.post("/orgs/<org_id>/upgrade/<license_type>/estimate")
def estimate(org_id: str, license_type: str) -> Any:
    member = _member(org_id)
    _require_upgrader(member)
    try:
        cmd = upgrade_form_views.request_from_form(org_id, member, license_type, request.form)
        result = upgrade_request.request_estimate(cmd, context.uow(), context.deps())
    except ApiError as exc:
        return {"error": {"code": exc.code, "message": exc.message}}, exc.status
    except DomainError as exc:
        return {"error": {"code": exc.code, "message": exc.message}}, status_of(exc)
    return serializers.estimate(result)


@bp.post("/orgs/<org_id>/upgrade/<license_type>/pay")
def pay(org_id: str, license_type: str) -> Any:
    member = _member(org_id)
    _require_upgrader(member)
    if not request.form.get("estimate_id"):  # no script ran: show the estimate first
        return upgrade_form_views.estimate_then_form(org_id, member, license_type, request.form)
    try:  # both fields come from the page itself: a bad one was tampered with
        estimate_id = validation.text("estimate_id", request.form.get("estimate_id", ""))
        key = validation.idempotency_key(request.form.get("idempotency_key"))
    except ApiError as exc:
        abort(400, exc.message)
    cmd = SubmitUpgrade(org_id, member.id, str(estimate_id), key)
    try:
        upgrade, _ = upgrade_request.submit_upgrade(cmd, context.uow(), context.deps())
    except EstimateStale:
        return upgrade_form_views.fresh_for(org_id, member, license_type, str(estimate_id))
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("pages.upgrade_form", org_id=org_id, license_type=license_type))
    return redirect(url_for("pages.upgrade_state", org_id=org_id, upgrade_id=upgrade.id))


def _upgrade(org_id: str, upgrade_id: str) -> dict[str, Any]:
    with context.uow() as work:
        found = work.upgrades.for_organization(org_id, upgrade_id)
        current = work.licenses.current(org_id, found.license_type) if found else None
    if found is None:
        abort(404)
    data = serializers.for_customer(serializers.upgrade(found))
    data["terminal"] = not found.is_open
    # Stripe was unavailable and the charge is tried again in a few seconds.
    data["retrying"] = found.state == "charging" and found.charge_attempts > 0
    data["license"] = (
        {
            "version": current.version,
            "seats": current.seats,
            "interval": current.interval,
            "id": current.id,
        }
        if current is not None and found.state == "applied"
        else None
    )
    return data


@bp.get("/orgs/<org_id>/upgrades/<upgrade_id>")
def upgrade_state(org_id: str, upgrade_id: str) -> Any:
    _member(org_id)
    return render_template(
        "upgrade_state.html", org_id=org_id, upgrade=_upgrade(org_id, upgrade_id)
    )


@bp.post("/orgs/<org_id>/upgrades/<upgrade_id>/retry")
def retry_payment(org_id: str, upgrade_id: str) -> Any:
    return _on_upgrade(org_id, upgrade_id, RetryPayment, upgrade_charge.retry_payment)


@bp.post("/orgs/<org_id>/upgrades/<upgrade_id>/cancel")
def cancel_upgrade(org_id: str, upgrade_id: str) -> Any:
    return _on_upgrade(org_id, upgrade_id, CancelUpgrade, upgrade_request.cancel_upgrade)


def _on_upgrade(org_id: str, upgrade_id: str, command: Any, handler: Any) -> Any:
    """An owner's or admin's order about one upgrade; a refusal is shown on its page."""
    member = _member(org_id)
    _require_upgrader(member)
    try:
        handler(command(org_id, member.id, upgrade_id), context.uow(), context.deps())
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(url_for("pages.upgrade_state", org_id=org_id, upgrade_id=upgrade_id))


@bp.get("/orgs/<org_id>/upgrades/<upgrade_id>.json")
def upgrade_state_json(org_id: str, upgrade_id: str) -> Any:
    _member(org_id)
    return _upgrade(org_id, upgrade_id)


@bp.get("/orgs/<org_id>/offline/<license_type>")
def offline(org_id: str, license_type: str) -> Any:
    member = _member(org_id)
    sub = _subscription(org_id, license_type)
    with context.uow() as work:
        items = work.licenses.activations(org_id, license_type)
    active = [a for a in items if a.active]
    now = context.deps().clock.now()
    held = [a for a in items if not a.active and a.holds_seat(now)]
    return render_template(
        "offline.html",
        org_id=org_id,
        sub=sub,
        member=member,
        active=active,
        used=len(active),
        held=len(held),
        held_until=max((a.expires_at for a in held), default=None),
    )


@bp.post("/orgs/<org_id>/offline/<license_type>")
def offline_add(org_id: str, license_type: str) -> Any:
    member = _member(org_id)
    _require_upgrader(member)
    try:
        license_service.activate_offline(
            context.uow(),
            context.deps(),
            org_id,
            member,
            license_type,
            request.form.get("machine_id", "").strip(),
        )
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(url_for("pages.offline", org_id=org_id, license_type=license_type))


@bp.post("/orgs/<org_id>/offline/<license_type>/<activation_id>/release")
def offline_release(org_id: str, license_type: str, activation_id: str) -> Any:
    member = _member(org_id)
    _require_upgrader(member)
    try:
        license_service.release_offline(
            context.uow(), context.deps(), org_id, member, activation_id
        )
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(url_for("pages.offline", org_id=org_id, license_type=license_type))


@bp.get("/orgs/<org_id>/offline/<license_type>/<activation_id>/file")
def offline_file(org_id: str, license_type: str, activation_id: str) -> Any:
    member = _member(org_id)
    if not member.can_upgrade:  # a download renews the file: Member.require_offline_manager
        abort(403, "Only the organization's owner or admins can download offline license files.")
    item = license_service.offline_file(context.uow(), context.deps(), org_id, activation_id)
    if item is None:
        abort(404)
    return download(
        license_service.license_file(context.deps(), item), f"{item.id}-{item.machine_id}"
    )
