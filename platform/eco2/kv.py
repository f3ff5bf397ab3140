"""Redis access with redis-py: lazy, with connect and read timeouts.

Every Redis key eco2 uses is built here, in one place: each key starts with
``eco2:``, and each function below builds one kind of key and says what it
holds and for how long.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eco2.problems import unavailable

if TYPE_CHECKING:
    import redis

    from eco2.config import Settings


_DENY = "eco2:deny:"
_REVOKED_BEFORE = "eco2:revoked-before:"
# The keys every token check reads (eco2.tokens), kept in process by eco2.tracking.
REVOCATION_PREFIXES = (_DENY, _REVOKED_BEFORE)


def denied_token(jti: str) -> str:
    """A logged-out access token, until its expiry plus the verifier's leeway (eco2.tokens.deny)."""
    return _DENY + jti


def user_revoked_before(user_id: str) -> str:
    """Unix time: the user's tokens issued up to it are refused (account deleted, log out everywhere)."""
    return _REVOKED_BEFORE + user_id


def oauth_state(state: str) -> str:
    """A pending social login: provider, PKCE verifier, nonce, return origin, redirect URI,
    the SHA-256 of the flow's secret; 10 minutes, single use."""
    return f"eco2:oauth-state:{state}"


def image_upload(key: str) -> str:
    """An upload URL handed out and not yet confirmed: channel, uploader, metadata,
    content type; the URL's lifetime plus the callback's grace (eco2.image.uploads)."""
    return f"eco2:image-upload:{key}"


def chat_session(user_id: str, session_id: str) -> str:
    """A user's chat session: its last turns, oldest first (a list of JSON); the
    session's idle lifetime (eco2.chat.sessions). The owner is part of the key."""
    return f"eco2:chat:session:{user_id}:{session_id}"


def chat_sessions(user_id: str) -> str:
    """The ids of a user's live chat sessions (a sorted set, scored by when each
    expires), so that deleting the account erases them; as long as the newest
    session lives. (It was once a plain set under another name: a new name for
    the new type, so no old key can answer WRONGTYPE.)"""
    return f"eco2:chat:session-index:{user_id}"


def rate_limit(bucket: str, client: str, window: int) -> str:
    """Requests from one client in one fixed window of one limit."""
    return f"eco2:rate:{bucket}:{client}:{window}"


def connect(settings: "Settings") -> "redis.Redis":
    """A client for ``REDIS_URL``; no connection is made until the first command."""
    if not settings.redis_url:
        raise unavailable("REDIS_URL is not configured.")
    import redis
    from redis.backoff import NoBackoff
    from redis.driver_info import DriverInfo
    from redis.retry import Retry

    timeout = settings.redis_timeout_seconds
    return redis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        health_check_interval=30,
        # One immediate retry: enough for a pooled connection that went stale
        # across a Redis restart, and a Redis that is down fails in one timeout
        # or two (503), not after redis-py's default backoff series.
        retry=Retry(NoBackoff(), retries=1),
        # The version CLIENT SETINFO announces, given: left out, redis-py reads it
        # from the installed package's metadata for every new connection (a scan
        # of site-packages' metadata, on the first request's path).
        driver_info=DriverInfo(lib_version=redis.__version__),
    )
