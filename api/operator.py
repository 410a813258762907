"""The operator pages: the inbox (counts by state, the oldest unapplied event, dead events
with a *Redrive* button) and reconciliation (estimate drift over time, the last runs and
what they repaired). For members with the `operator` role only; they see every
organization's events, as the CLI does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from api import context
from api.charts import drift_chart
from api.pages import _member
from domain.model import Member
from services import admin, operations
from web import runtime

bp = Blueprint("operator", __name__, url_prefix="/operator", template_folder="templates")


def _operator() -> Member:
    member = _member()
    if not member.can_operate:
        abort(403, "Only operators can see this page.")
    return member


def _age(age: timedelta | None) -> str:
    if age is None:
        return "none waiting"
    seconds = int(age.total_seconds())
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min {rest % 60} s"


@bp.get("")
def inbox() -> Any:
    member = _operator()
    view = operations.inbox_view(context.uow(), context.deps().clock.now())
    return render_template(
        "operator.html", member=member, view=view, oldest=_age(view.oldest_unapplied_age)
    )


@bp.post("/events/redrive")
def redrive() -> Any:
    """The event id travels in the form body: an id may hold `/`, `?` or `%`, which a path
    segment cannot carry as given."""
    _operator()
    event_id = request.form.get("event_id", "")
    if not event_id:
        abort(400, "which event? the form names none")
    sent = admin.redrive(context.uow(), runtime().celery, event_ids=[event_id])
    if sent:
        flash(f"{event_id} is received again; a worker applies it.", "ok")
    else:
        flash(f"{event_id} is not dead (any more).", "error")
    return redirect(url_for("operator.inbox"))


@bp.get("/reconciliation")
def reconciliation() -> Any:
    member = _operator()
    view = operations.reconciliation_view(context.uow())
    return render_template(
        "operator_reconciliation.html",
        member=member,
        chart=drift_chart(view.drift),
        runs=view.runs,
    )
