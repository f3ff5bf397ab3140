"""PostgreSQL access: psycopg 3 with a small pool per function instance.

Nothing connects at import or start-up; the pool opens on the first query.
Prepared statements are off (``prepare_threshold=None``) so that the same code
runs through PgBouncer in transaction mode. Tables are always schema-qualified
(``auth.users``), one schema per domain, so no ``search_path`` is needed.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from eco2.problems import unavailable

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

    from eco2.config import Settings


class Database:
    def __init__(self, settings: "Settings", application_name: str = "eco2") -> None:
        self.settings = settings
        self.application_name = application_name
        self._pool: "ConnectionPool | None" = None
        self._lock = threading.Lock()

    @property
    def pool(self) -> "ConnectionPool":
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = self._open()
        return self._pool

    def _open(self) -> "ConnectionPool":
        if not self.settings.database_url:
            raise unavailable("DATABASE_URL is not configured.")
        from psycopg_pool import ConnectionPool

        timeout = self.settings.db_timeout_seconds
        return ConnectionPool(
            self.settings.database_url,
            min_size=0,
            max_size=self.settings.db_pool_max,
            timeout=timeout,
            max_idle=60,
            # A connection is checked when handed out, so that after a database
            # restart the first request gets a fresh connection, not a dead one.
            check=ConnectionPool.check_connection,
            kwargs={
                "prepare_threshold": None,
                "connect_timeout": max(2, int(timeout)),
                "application_name": self.application_name,
            },
            open=True,
            name=self.application_name,
        )

    @contextmanager
    def transaction(self) -> Iterator["psycopg.Connection"]:
        """A connection inside one transaction: committed on success, rolled
        back on any exception, so a failed request leaves nothing half-written."""
        with self.pool.connection() as conn:
            with conn.transaction():
                yield conn

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
