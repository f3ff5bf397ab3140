"""Redis access with redis-py: lazy, with connect and read timeouts.

Key names used anywhere in eco2 are listed here, in one place:

====================================  =======================================
key                                   meaning
====================================  =======================================
(none yet)
====================================  =======================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eco2.problems import unavailable

if TYPE_CHECKING:
    import redis

    from eco2.config import Settings


def connect(settings: "Settings") -> "redis.Redis":
    """A client for ``REDIS_URL``; no connection is made until the first command."""
    if not settings.redis_url:
        raise unavailable("REDIS_URL is not configured.")
    import redis

    timeout = settings.redis_timeout_seconds
    return redis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        health_check_interval=30,
        retry_on_timeout=False,
    )
