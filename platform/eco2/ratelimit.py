"""Fixed-window rate limits per client, counted in Redis."""

from __future__ import annotations

import time
from typing import Any

from werkzeug.wrappers import Request

from eco2 import kv
from eco2.problems import Problem


def client_address(request: Request, trusted_hops: int) -> str:
    """The caller's address: ``trusted_hops`` proxies in front of us each
    appended one address to X-Forwarded-For, so the client is the one that many
    places from the right; anything further left was written by the client."""
    if trusted_hops:
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        if len(hops) >= trusted_hops:
            return hops[-trusted_hops]
    return request.remote_addr or "unknown"


def hit(redis: Any, bucket: str, client: str, limit: int, window: int = 60) -> None:
    """Count one request; over ``limit`` in the window is a 429 with Retry-After."""
    now = int(time.time())
    key = kv.rate_limit(bucket, client, now // window)
    with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window)
        count, _ = pipe.execute()
    if count > limit:
        retry = window - now % window
        raise Problem(429, "Too many requests; slow down.", slug="rate-limited", headers={"Retry-After": str(retry)})
