"""What the org API and the pages accept: one validator for both edges, so a form cannot
send what the JSON API refuses. Each check raises `ApiError(400, "invalid_request")`; rules
of the domain (a machine id, seats that may not decrease) stay in the domain."""

from __future__ import annotations

import re

from api.errors import ApiError
from domain.model import Interval

INTERVALS = tuple(i.value for i in Interval)
MAX_SEATS = 100_000
MAX_IDEMPOTENCY_KEY = 255
MAX_TEXT = 64
_DECIMAL = re.compile(r"[0-9]{1,9}")


def invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)


def seats(value: object) -> int:
    """A seat count from JSON (an int) or a form (decimal digits), 1 to MAX_SEATS."""
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SEATS:
        raise invalid(f"seats must be a whole number between 1 and {MAX_SEATS}")
    return value


def interval(value: object) -> str:
    if value not in INTERVALS:
        raise invalid(f"interval must be one of {', '.join(map(repr, INTERVALS))}")
    return str(value)


def idempotency_key(value: str | None) -> str | None:
    key = (value or "").strip() or None
    if key is not None and (len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable()):
        raise invalid(f"Idempotency-Key is at most {MAX_IDEMPOTENCY_KEY} printable characters")
    return key


def text(name: str, value: object, required: bool = True) -> str | None:
    """A short identifier or code (license type, estimate id, discount code)."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise invalid(f"{name} must be a str")
    if not 0 < len(value) <= MAX_TEXT:
        raise invalid(f"{name} must be 1 to {MAX_TEXT} characters")
    return value
