"""PostgreSQL access: psycopg 3 with a small pool per function instance.

Nothing connects at import or start-up; the pool opens on the first query.
psycopg's automatic preparation is on (``ECO2_DB_PREPARE_THRESHOLD``, 5 by
default): a statement run more than that many times on a connection is prepared
on the server, which a direct PostgreSQL keeps and so does a PgBouncer in
transaction mode that tracks protocol-level prepared statements (≥ 1.22,
``max_prepared_statements``, as knative/'s does); ``off`` for an older PgBouncer.

Round trips are what a request waits for, so the pool's connections are in
autocommit: :meth:`Database.read` costs one round trip per statement, and only
:meth:`Database.transaction` pays for ``BEGIN`` and ``COMMIT``.

Tables are always schema-qualified (``auth.users``), one schema per domain, so
no ``search_path`` is needed.
"""

from __future__ import annotations

import functools
import os
import select
import socket
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from eco2.problems import unavailable

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql
    from psycopg_pool import ConnectionPool

    from eco2.config import Settings

    Connection = psycopg.Connection[Any]
    Query = str | bytes | sql.Composable


def _configure(conn: "psycopg.Connection") -> None:
    """A new pool connection parses json/jsonb columns with pydantic-core's
    parser, 2.5-4x the json module's speed on the analysis's columns (same
    values; docs/bench.md)."""
    from psycopg.types.json import set_json_loads
    from pydantic_core import from_json

    set_json_loads(from_json, conn)


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
            check=self._check,
            kwargs={
                "autocommit": True,
                "prepare_threshold": self.settings.db_prepare_threshold,
                "connect_timeout": max(2, int(timeout)),
                "application_name": self.application_name,
            },
            configure=_configure,
            open=True,
            name=self.application_name,
        )

    def _check(self, conn: "psycopg.Connection") -> None:
        """Raise if ``conn`` is dead. An idle connection's socket has nothing
        to read unless the server closed it (a restart, an idle timeout) or
        said something unasked; only then is the round trip of a real check
        paid, with the same deadline as a transaction."""
        if not _readable(conn.pgconn.socket):
            return
        from psycopg_pool import ConnectionPool

        with _WATCHDOG.deadline(conn, self.settings.db_timeout_seconds):
            ConnectionPool.check_connection(conn)

    @contextmanager
    def transaction(self) -> Iterator["Connection"]:
        """A connection inside one transaction: committed on success, rolled
        back on any exception, so a failed request leaves nothing half-written.

        The whole transaction must finish within ``ECO2_DB_TIMEOUT_SECONDS``,
        or its connection is severed and the request gets a 503.
        """
        with self.read() as conn, conn.transaction():
            yield conn

    @contextmanager
    def read(self) -> Iterator["Connection"]:
        """A connection in autocommit: every statement is a transaction of its
        own, one round trip each. For reads that need no consistent view across
        statements; code that writes opens ``conn.transaction()`` inside.

        Held within ``ECO2_DB_TIMEOUT_SECONDS``, as :meth:`transaction` is.
        """
        with self.pool.connection() as conn, _WATCHDOG.deadline(conn, self.settings.db_timeout_seconds):
            yield conn

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


@functools.cache
def _dict_row() -> Any:
    """psycopg's ``dict_row``, imported once on first use: this module is loaded
    at start-up where psycopg is not, and an import statement run on every read
    costs a microsecond."""
    from psycopg.rows import dict_row

    return dict_row


def rows(conn: "Connection", query: "Query", params: Any = None) -> list[dict[str, Any]]:
    """The rows of ``query`` as dicts keyed by column name: the one way eco2
    turns rows into dicts (psycopg's ``dict_row``, whatever the connection's
    own row factory is)."""
    with conn.cursor(row_factory=_dict_row()) as cur:
        return cur.execute(query, params).fetchall()


def row(conn: "Connection", query: "Query", params: Any = None) -> dict[str, Any] | None:
    """The first row of ``query`` as a dict, or None."""
    with conn.cursor(row_factory=_dict_row()) as cur:
        return cur.execute(query, params).fetchone()


class _Watchdog:
    """Severs connections whose transaction outlives its deadline.

    psycopg has no client-side query timeout, and a server that stops
    answering (frozen, or cut off by the network) still has its kernel ACK our
    packets, so no TCP timeout fires either: the request would hang. One
    daemon thread checks the deadlines a few times a second and shuts an
    overdue connection's socket down, which wakes the blocked request with an
    OperationalError (a 503). A request pays only a dict insert and delete.
    """

    TICK = 0.1

    def __init__(self) -> None:
        self._due: dict[int, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextmanager
    def deadline(self, conn: Any, seconds: float) -> Iterator[None]:
        key = id(conn)
        with self._lock:
            self._due[key] = (time.monotonic() + seconds, conn)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="eco2-db-watchdog", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._due.pop(key, None)

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            with self._lock:
                overdue = [conn for due, conn in self._due.values() if due <= now]
                for conn in overdue:
                    self._due.pop(id(conn), None)
            for conn in overdue:
                _sever(conn)


def _readable(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def _sever(conn: Any) -> None:
    try:
        # A duplicate of the descriptor: shutdown() acts on the socket itself,
        # and psycopg keeps (and later closes) its own descriptor.
        with socket.socket(fileno=os.dup(conn.pgconn.socket)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError, AttributeError):
        pass  # already closed


_WATCHDOG = _Watchdog()
