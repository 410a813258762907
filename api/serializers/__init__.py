"""JSON shapes of the org API, one module per feature. Money is integer minor units plus its
currency; times are RFC 3339 in UTC."""

from __future__ import annotations

from datetime import datetime


def timestamp(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
