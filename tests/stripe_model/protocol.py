"""What sits between an HTTP request and an operation: API keys, idempotency, faults, and the
record of every request Stripe received."""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.stripe_model.base import Json, StripeApiError

IDEMPOTENCY_TTL = 24 * 3600  # Stripe forgets a key after 24 hours


@dataclass
class Received:
    """One request as Stripe received it (params decoded from the form encoding)."""

    method: str
    path: str
    params: Json
    idempotency_key: str | None
    api_key: str | None
    stripe_version: str | None
    status: int = 0
    replayed: bool = False
    answer_lost: bool = False


@dataclass
class Stored:
    method: str
    path: str
    params: Json
    status: int
    body: Any
    at: int


class Idempotency:
    """Stripe's idempotency: results are kept per (API key, key) for 24 hours. The same key
    with the same request replays the stored status and body without doing the work again;
    with another path or other parameters it is a 400 `idempotency_error`."""

    def __init__(self) -> None:
        self.results: dict[tuple[str, str], Stored] = {}

    def lookup(
        self, scope: tuple[str, str], method: str, path: str, params: Json, now: int
    ) -> Stored | None:
        stored = self.results.get(scope)
        if stored is None or now - stored.at > IDEMPOTENCY_TTL:
            return None
        if (stored.method, stored.path, stored.params) != (method, path, params):
            key = scope[1]
            raise StripeApiError(
                400,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters "
                f"they were first used with. Try using a key other than '{key}' if you "
                "meant to execute a different request.",
                stored=False,
            )
        return stored

    def keep(self, scope: tuple[str, str], stored: Stored) -> None:
        self.results[scope] = stored


ERRORS: dict[str, tuple[int, str, str | None, str]] = {
    # fault name: status, Stripe's error type, code, message
    "rate_limit_error": (
        429,
        "invalid_request_error",
        "rate_limit",
        "Request rate limit exceeded. Please retry with backoff.",
    ),
    "lock_timeout": (
        409,
        "invalid_request_error",
        "lock_timeout",
        "This object cannot be accessed right now because another API request "
        "or Stripe process is currently accessing it.",
    ),
    "api_error": (500, "api_error", None, "Something went wrong on Stripe's end."),
    "invalid_request_error": (400, "invalid_request_error", None, "Invalid request."),
    "authentication_error": (401, "invalid_request_error", None, "Invalid API Key provided."),
}


def fault_error(name: str) -> StripeApiError:
    status, kind, code, message = ERRORS[name]
    return StripeApiError(status, kind, message, code=code, stored=False)


@dataclass
class Fault:
    pattern: str
    method: str | None
    remaining: int
    effect: str  # "lose", "drop", or an ERRORS name

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and self.method in (None, method)
            and fnmatch.fnmatchcase(path, self.pattern)
        )


@dataclass
class Faults:
    """Planned failures, each for a glob of paths (`/v1/invoices/*/pay`) and a number of
    requests. Failing before the work is a `fail_next`; losing the answer after the work
    (the caller sees a 500, or a dropped connection) is a `lose_answer`."""

    planned: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def lose_answer(
        self, pattern: str, times: int = 1, *, method: str | None = "POST", drop: bool = False
    ) -> None:
        with self.lock:
            self.planned.append(Fault(pattern, method, times, "drop" if drop else "lose"))

    def fail_next(
        self,
        pattern: str,
        error: str = "rate_limit_error",
        times: int = 1,
        *,
        method: str | None = None,
    ) -> None:
        if error not in ERRORS:
            raise ValueError(f"unknown error {error!r}; one of {sorted(ERRORS)}")
        with self.lock:
            self.planned.append(Fault(pattern, method, times, error))

    def take(self, before_work: bool, method: str, path: str) -> str | None:
        """Use up one matching fault of the kind asked for; its effect, or None."""
        with self.lock:
            for fault in self.planned:
                lost = fault.effect in ("lose", "drop")
                if lost != before_work and fault.matches(method, path):
                    fault.remaining -= 1
                    return fault.effect
        return None

    def clear(self) -> None:
        with self.lock:
            self.planned.clear()
