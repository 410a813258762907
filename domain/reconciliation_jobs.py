"""The reconciliation jobs, listed once: the CLI's labels and choices, the drift kinds and
what each job reads from Stripe are derived from this list (services/reconciliation.py
runs them, in this order)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReconciliationJob:
    name: str  # `seatflow reconcile --job NAME`; a failure is reported under it
    progress: str  # what its progress and the summary's counts are keyed by
    drift: str  # the kind of the drift records it writes
    label: str  # what the progress bar calls what it counts
    reads: str | None = None  # the Stripe object it lists, if any


JOBS = (
    ReconciliationJob("estimate", "estimate", "estimate", "upgrades (estimate drift)"),
    # Before the Stripe state: a renewal into a scheduled change applies as that change.
    ReconciliationJob(
        "scheduled_changes",
        "scheduled_changes",
        "stripe_state",
        "Stripe schedules of changes at renewal",
        "subscription_schedule",
    ),
    ReconciliationJob(
        "stripe_state", "stripe_state", "stripe_state", "Stripe subscriptions read", "subscription"
    ),
    ReconciliationJob("missed_events", "events", "missed_event", "Stripe events"),
    ReconciliationJob("sagas", "saga", "saga", "stuck upgrades"),
)
# Drift recorded outside the jobs: a payment Stripe reported that seatflow could not apply.
PAYMENT_DRIFT = "payment"
DRIFT_KINDS = tuple(dict.fromkeys([*(job.drift for job in JOBS), PAYMENT_DRIFT]))


def job_named(name: str) -> ReconciliationJob:
    return next(job for job in JOBS if job.name == name)


@dataclass
class Summary:
    """What one reconciliation run did, by job (its `progress` key)."""

    checked: dict[str, int] = field(default_factory=dict)
    drift: dict[str, int] = field(default_factory=dict)
    repaired: dict[str, int] = field(default_factory=dict)
    flagged: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # job -> why it failed
    read: dict[str, int] = field(default_factory=dict)  # objects read from Stripe, by job
    pages: dict[str, int] = field(default_factory=dict)  # pages of them

    def add(self, table: dict[str, int], kind: str, n: int = 1) -> None:
        table[kind] = table.get(kind, 0) + n
