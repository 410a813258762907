"""An organization's upgrade history (page and `GET /api/v1/organizations/{org}/upgrades`),
the current license's download from the pages, and `/favicon.ico`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, render_template, send_file

from api import context
from api.pages import _member
from api.serializers import history as serializers
from services import licenses as license_service
from services import receipts

bp = Blueprint("history", __name__, template_folder="templates")
FAVICON = Path(__file__).parent / "static" / "favicon.ico"


@bp.get("/api/v1/organizations/<org_id>/upgrades")
def list_upgrades(org_id: str) -> Any:
    context.member_of(org_id)
    entries = receipts.history(context.uow(), org_id)
    return {"upgrades": [serializers.entry(e) for e in entries]}


@bp.get("/orgs/<org_id>/history")
def history_page(org_id: str) -> Any:
    member = _member(org_id)
    entries = [serializers.entry(e) for e in receipts.history(context.uow(), org_id)]
    return render_template("history.html", org_id=org_id, member=member, upgrades=entries)


@bp.get("/orgs/<org_id>/licenses/<license_type>/file")
def current_license_file(org_id: str, license_type: str) -> Any:
    """The current license of one subscription, signed, as the API's file endpoint gives it."""
    _member(org_id)
    with context.uow() as work:
        current = work.licenses.current(org_id, license_type)
    if current is None:
        abort(404)
    text = license_service.license_file(context.deps(), current)
    name = f"{current.id}-v{current.version}.json"
    return current_app.response_class(
        text,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/favicon.ico")
def favicon() -> Any:
    return send_file(FAVICON, mimetype="image/vnd.microsoft.icon", max_age=86400)
