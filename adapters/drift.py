"""Drift records: what reconciliation found and what it repaired, with before and after."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, case, func, insert, select
from sqlalchemy.orm import Session

from adapters.orm import drift_records
from domain.reconciliation_jobs import JOBS, Summary

COLUMNS = (
    "created_at",
    "kind",
    "organization_id",
    "subject",
    "cause",
    "estimate_amount",
    "charged_amount",
    "paid_amount",
    "currency",
    "minutes_between",
    "flagged",
    "repaired",
    "before",
    "after",
)


class SqlDriftRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, now: datetime, **values: Any) -> None:
        """Add a drift record; `before` and `after` are stored as JSON."""
        for key in ("before", "after"):
            if key in values and not isinstance(values[key], str | None):
                values[key] = json.dumps(values[key], default=str, sort_keys=True)
        self.session.execute(insert(drift_records).values(created_at=now, **values))

    def flagged_subjects(self, kind: str, subjects: Iterable[str]) -> set[str]:
        """Which of these subjects already have a flagged record of `kind`."""
        query = select(drift_records.c.subject).where(
            drift_records.c.kind == kind,
            drift_records.c.flagged.is_(True),
            drift_records.c.subject.in_(list(subjects)),
        )
        return set(self.session.scalars(query))

    def rows(self, kind: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """The newest records first, optionally of one kind."""
        query = select(*(drift_records.c[c] for c in COLUMNS)).order_by(drift_records.c.id.desc())
        if kind:
            query = query.where(drift_records.c.kind == kind)
        return [dict(r._mapping) for r in self.session.execute(query.limit(limit))]

    def count_by_kind(self) -> dict[str, int]:
        """Records ever written, by kind."""
        query = select(drift_records.c.kind, func.count()).group_by(drift_records.c.kind)
        return {str(kind): int(n) for kind, n in self.session.execute(query)}

    def count_flagged_by_kind(self) -> dict[str, int]:
        """Flagged records by kind, 0 for a kind that has records but none flagged."""
        flagged = func.sum(case((drift_records.c.flagged, 1), else_=0))
        query = select(drift_records.c.kind, flagged).group_by(drift_records.c.kind)
        return {str(kind): int(n or 0) for kind, n in self.session.execute(query)}


def rows(engine: Engine, kind: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    with Session(engine) as session:
        return SqlDriftRepository(session).rows(kind, limit)


def _with_objects(item: dict[str, Any]) -> dict[str, Any]:
    """`before` and `after` as the objects they were recorded from (stored as JSON text)."""
    return item | {k: json.loads(item[k]) for k in ("before", "after") if item.get(k)}


def render(items: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([_with_objects(i) for i in items], default=str, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(items)
        return out.getvalue()
    shown = (
        "kind",
        "subject",
        "cause",
        "estimate_amount",
        "charged_amount",
        "paid_amount",
        "flagged",
    )
    table = [[str(item[c] if item[c] is not None else "") for c in shown] for item in items]
    widths = [max([len(c)] + [len(r[i]) for r in table]) for i, c in enumerate(shown)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(shown, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in table]
    return "\n".join(lines)


def render_summary(summary: Summary) -> str:
    kinds = sorted(set(summary.checked) | set(summary.drift) | set(summary.repaired))
    lines = [f"{'job':<18}{'checked':>9}{'drift':>8}{'repaired':>10}"]
    for kind in kinds:
        lines.append(
            f"{kind:<18}{summary.checked.get(kind, 0):>9}"
            f"{summary.drift.get(kind, 0):>8}{summary.repaired.get(kind, 0):>10}"
        )
    lines.append(f"flagged (Stripe charged another amount than computed): {summary.flagged}")
    lines += [
        f"read from Stripe: {n} {OBJECTS.get(kind, 'object')}(s) in {summary.pages.get(kind, 0)} "
        f"page(s) ({kind})"
        for kind, n in sorted(summary.read.items())
    ]
    lines += [f"failed: {job}: {reason}" for job, reason in summary.failed.items()]
    if not (any(summary.drift.values()) or summary.flagged or summary.failed):
        lines.append("nothing differed: seatflow and Stripe agree")
    return "\n".join(lines)


OBJECTS = {job.progress: job.reads for job in JOBS if job.reads}  # what a job lists from Stripe
