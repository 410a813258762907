"""Calendar billing cycles and whole-minute time arithmetic.

A monthly cycle ends on the same day next month, clamped to that month's last day (Jan 31 →
Feb 28 or 29); a yearly cycle likewise (Feb 29 → Feb 28 next year).
"""

from __future__ import annotations

import calendar
from datetime import datetime

MONTHS = {"month": 1, "year": 12}  # by `domain.model.Interval` value


def add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def cycle_end(start: datetime, interval: str) -> datetime:
    return add_months(start, MONTHS[interval])


def whole_minutes(start: datetime, end: datetime) -> int:
    """Whole minutes from start to end, rounded down; never negative."""
    seconds = (end - start).total_seconds()
    return max(0, int(seconds // 60))
