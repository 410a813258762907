"""Engine construction shared by the receiver, the workers and the migrations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event

from config.checks import database_problem
from config.settings import ConfigError, Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web process write while a worker reads; busy_timeout waits for a writer
    # instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _binary_arrays(dbapi_connection: Any, _record: Any) -> None:
    """Lists (the `= ANY(array)` parameters of adapters/sql.py) are sent in PostgreSQL's
    binary format: psycopg's text format quotes each element in Python, about three times
    the client's time for an array of a batch's event ids."""
    from psycopg.types.array import ListBinaryDumper

    dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)


def make_engine(settings: Settings, **overrides: Any) -> Engine:
    url = settings.database_url
    problem = database_problem(url)
    if problem:  # settings read from the environment were checked already; these may not be
        raise ConfigError(problem)
    if url.startswith("sqlite"):
        settings.ensure_data_dir()
        engine = create_engine(url, connect_args={"timeout": 10}, **overrides)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 5,
        "pool_timeout": 5,
        # A database that does not answer must fail fast, so the receiver can say 503.
        "connect_args": {"connect_timeout": 3},
    }
    options.update(overrides)
    engine = create_engine(url, **options)
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "connect", _binary_arrays)
    return engine
