"""What an I/O failure means to an operator: one line saying what failed, and a hint.

The command line prints these instead of a traceback (`seatflow --debug` shows the traceback).
Only this module knows the exception types of SQLAlchemy, psycopg, kombu and the gateway.
"""

from __future__ import annotations

import kombu.exceptions
from sqlalchemy import exc as sa

from adapters.stripe_errors import StripeUnavailable
from domain.ports import DuplicateRow

SCHEMA_HINT = "hint: run `seatflow db upgrade`"
DATABASE_HINT = "hint: is the database running and reachable? check DATABASE_URL"
CONFLICT_HINT = "hint: list what is stored; the name or id is taken"
DEBUG_HINT = "hint: `seatflow --debug …` shows the statement and the traceback"
BROKER_HINT = "hint: is the broker (Redis) running and reachable? check CELERY_BROKER_URL"
STRIPE_HINT = "hint: check the network, STRIPE_API_BASE and STRIPE_API_KEY, then run it again"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0].strip() if text else type(error).__name__


def _database(error: sa.DBAPIError) -> str:
    cause = _first_line(error.orig) if error.orig is not None else _first_line(error)
    if "no such table" in cause or "UndefinedTable" in type(error.orig).__name__:
        return f"the database has no seatflow tables ({cause}); {SCHEMA_HINT}"
    if isinstance(error, sa.OperationalError | sa.InterfaceError):
        return f"cannot reach the database ({cause}); {DATABASE_HINT}"
    if isinstance(error, sa.IntegrityError):
        conflict = f"it conflicts with a row already stored ({cause})"
        return f"the database refused it: {conflict}; {CONFLICT_HINT}"
    return f"the database refused the statement ({cause}); {DEBUG_HINT}"


def explain(error: BaseException) -> str | None:
    """One line with a hint for a failure of the outside world, or None if it is not one."""
    if isinstance(error, DuplicateRow) and isinstance(error.__cause__, sa.DBAPIError):
        return _database(error.__cause__)
    if isinstance(error, sa.DBAPIError):
        return _database(error)
    if isinstance(error, sa.NoSuchModuleError | sa.ArgumentError):
        return f"DATABASE_URL cannot be used ({_first_line(error)}); {DATABASE_HINT}"
    if isinstance(error, kombu.exceptions.OperationalError):
        return f"cannot reach the broker ({_first_line(error)}); {BROKER_HINT}"
    if isinstance(error, StripeUnavailable):
        sentence = _first_line(error).split(". ")[0].rstrip(".")
        return f"Stripe is unreachable ({sentence}); {STRIPE_HINT}"
    return None
