"""The database's failures, named for the edges that translate them (HTTP 503, task retry)
without importing SQLAlchemy themselves."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

# The database is unreachable or went away mid-statement: a later attempt may succeed.
DatabaseUnavailable = OperationalError
TRANSIENT_DB_ERRORS: tuple[type[Exception], ...] = (OperationalError,)
