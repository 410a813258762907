"""A PostgreSQL session advisory lock, held on a dedicated connection: the server releases it
when that connection dies, so a crashed holder never keeps it."""

from __future__ import annotations

import contextlib

from sqlalchemy import Connection, Engine, text


class AdvisoryLock:
    def __init__(self, engine: Engine, key: int) -> None:
        self.engine, self.key = engine, key
        self._conn: Connection | None = None

    @property
    def holding(self) -> bool:
        return self._conn is not None

    def held(self) -> bool:
        """Hold the lock, taking it if it is free; False while another session holds it.
        Raises the database's error if the connection is gone (and the lock with it)."""
        if self._conn is not None:
            self._conn.execute(text("SELECT 1"))  # still connected: still the holder
            return True
        conn = self.engine.connect()
        try:
            taken = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
            if taken.scalar():
                conn.commit()
                self._conn = conn
                return True
        except Exception:
            conn.close()
            raise
        conn.close()
        return False

    def release(self) -> None:
        if self._conn is not None:
            # Unlocked at once: a closed connection alone frees the lock only once the server
            # has noticed it gone, a moment later, and another session asking meanwhile is
            # refused. (On a connection already gone the lock went with it.)
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            # Closed for good, not returned to the pool: a pooled session would keep the lock.
            with contextlib.suppress(Exception):
                self._conn.invalidate()
                self._conn.close()
            self._conn = None
