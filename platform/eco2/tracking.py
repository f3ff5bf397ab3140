"""Redis keys read in process, dropped the moment Redis says they changed.

The denylist and revoked-before checks run on every authenticated request and
their answer almost never changes. :class:`TrackedKeys` keeps the values it
read and asks Redis (``CLIENT TRACKING ... BCAST PREFIX``) to announce every
change to a key under its prefixes on one connection of its own; before each
lookup it reads what has arrived there and forgets those keys. A lookup whose
keys are all known is a dictionary read and a ``poll`` of that connection, no
round trip.

Why not redis-py's own client-side caching (``protocol=3`` with
``cache_config``): redis-py 7.x refuses any server that does not call itself
``redis`` at version 7.4 or later. That rules out the Redis 6.2 the tests
embed, the 7.0 of the development machines and the Valkey the cluster runs
(it calls itself ``valkey``, or ``redis 7.2.4`` in its compatibility mode).
This is the same protocol on a plain redis-py connection: a Redis 6 feature.

Correctness: a change is announced by Redis as it executes the write, so a
lookup after that announcement reached this process sees the change; the
window is the announcement's delivery, measured in bench/revocation.py. If
the tracking connection fails or closes (Redis stopped, restarted, failed
over) every value is forgotten and lookups go to Redis until it is set up
again, so a Redis that is down still fails closed. A link that goes silent
without closing cannot announce anything: no value is trusted for longer than
``max_age`` seconds, the worst case in that one event.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis

CHANNEL = "__redis__:invalidate"


class TrackedKeys:
    """MGET of keys under ``prefixes``, answered locally while Redis reports no change."""

    def __init__(
        self,
        client: "redis.Redis",
        prefixes: tuple[str, ...],
        *,
        max_keys: int = 65536,
        max_age: float = 10.0,
        retry_after: float = 1.0,
    ) -> None:
        self._client = client
        self._prefixes = prefixes
        self._max_keys = max_keys
        self._max_age = max_age
        self._retry_after = retry_after
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, Any]] = {}
        self._conn: Any = None  # the connection announcements arrive on
        self._epoch = 0  # bumped by every announcement and every reset
        self._down_until = 0.0  # no new tracking connection before this (monotonic)
        self.disabled = False  # the server refused CLIENT TRACKING: plain reads from now on
        self._connecting = False

    def mget(self, *keys: str) -> list[Any]:
        now = time.monotonic()
        if self._conn is None:
            self._start(now)
        with self._lock:
            tracking = self._ready(now)
            if tracking:
                found = [self._values.get(k) for k in keys]
                if all(f is not None and now - f[0] < self._max_age for f in found):
                    return [f[1] for f in found]  # type: ignore[index]
                epoch = self._epoch
        values = self._client.mget(keys)
        if tracking:
            with self._lock:
                # Only if nothing was announced (nor reset) while we read:
                # what we read may predate a change whose announcement is spent.
                if self._ready(now) and self._epoch == epoch:
                    if len(self._values) + len(keys) > self._max_keys:
                        self._values.clear()
                    for key, value in zip(keys, values, strict=True):
                        self._values[key] = (now, value)
        return values

    def _ready(self, now: float) -> bool:
        """Tracking is on and every announcement that arrived is applied (lock held)."""
        if self._conn is None:
            return False
        try:
            while self._conn.can_read(timeout=0):
                self._apply(self._conn.read_response())
        except Exception:  # noqa: BLE001 - any failure of the connection: forget everything
            self._reset(now)
            return False
        return True

    def _apply(self, message: Any) -> None:
        if not (isinstance(message, list) and len(message) == 3 and message[0] == b"message"):
            return
        self._epoch += 1
        keys = message[2]
        if keys is None:  # FLUSHALL / FLUSHDB
            self._values.clear()
            return
        for key in keys:
            self._values.pop(key.decode() if isinstance(key, bytes) else key, None)

    def _start(self, now: float) -> None:
        """Set up the tracking connection: one thread at a time, and outside the
        lock, so that a Redis slow to answer holds up no other request (they
        read from Redis meanwhile)."""
        with self._lock:
            if self._conn is not None or self._connecting or self.disabled or now < self._down_until:
                return
            self._connecting = True
        conn = None
        try:
            conn = self._connect(now)
        finally:
            with self._lock:
                self._connecting = False
                if conn is not None:
                    self._conn = conn
                    self._values.clear()
                    self._epoch += 1

    def _connect(self, now: float) -> Any:
        """A connection subscribed to the announcements, or None (and when to try again)."""
        import redis

        conn = self._client.connection_pool.make_connection()
        try:
            conn.connect()
            conn.send_command("CLIENT", "ID")
            client_id = conn.read_response()
            prefixes = [part for prefix in self._prefixes for part in ("PREFIX", prefix)]
            conn.send_command("CLIENT", "TRACKING", "ON", "REDIRECT", client_id, "BCAST", *prefixes)
            conn.read_response()
            conn.send_command("SUBSCRIBE", CHANNEL)
            conn.read_response()
        except redis.ResponseError:
            # A server without CLIENT TRACKING (or that forbids it): never again.
            conn.disconnect()
            self.disabled = True
            return None
        except Exception:  # noqa: BLE001 - unreachable now: plain reads, and try again later
            conn.disconnect()
            self._down_until = now + self._retry_after
            return None
        return conn

    def _reset(self, now: float) -> None:
        conn, self._conn = self._conn, None
        self._values.clear()
        self._epoch += 1
        self._down_until = now + self._retry_after
        if conn is not None:
            conn.disconnect()

    def close(self) -> None:
        with self._lock:
            self._reset(time.monotonic())


_tracked: "weakref.WeakKeyDictionary[Any, TrackedKeys]" = weakref.WeakKeyDictionary()
_tracked_lock = threading.Lock()


def tracked(client: "redis.Redis", prefixes: tuple[str, ...]) -> TrackedKeys:
    """The one :class:`TrackedKeys` of ``client`` (made on first use)."""
    found = _tracked.get(client)
    if found is None:
        with _tracked_lock:
            found = _tracked.get(client)
            if found is None:
                found = _tracked[client] = TrackedKeys(client, prefixes)
    return found
