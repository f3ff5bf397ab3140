"""Chat sessions in Redis: the last turns of a conversation, for a while.

A session is a Redis list under ``kv.chat_session(user, id)``: one JSON
record per turn (the message, the answer, its sources and model), oldest
first, trimmed to the last ``history_turns`` and expiring
``session_ttl_seconds`` after the last message. The owner is part of the key,
so another user's id names nothing (a 404, the same as an expired session).
The sorted set ``kv.chat_sessions(user)`` lists a user's session ids, scored
by when each expires, so that deleting the account erases them
(:func:`erase_user`) without scanning the keyspace. Each message drops the ids
that have expired since: the index holds the live sessions only, even for a
user who never stops chatting (and so never lets the index expire).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from eco2 import kv


@dataclass(frozen=True)
class Turn:
    """One exchange of a session: the user's message and the answer given, and
    the name of what its photo showed, if it had one."""

    message: str
    answer: str
    photo: str | None = None

    @property
    def topic(self) -> str:
        """What the turn was about, for searching a follow-up: a photo sent
        alone has no message, and "이거 어떻게 버려요?" names nothing."""
        return " ".join(t for t in (self.photo, self.message) if t)


def history(redis: Any, user_id: str, session_id: str) -> list[Turn]:
    """The session's turns, oldest first (none for a new or expired session)."""
    return [Turn(r["message"], r["user_answer"], (r.get("photo") or {}).get("name"))
            for r in records(redis, user_id, session_id)]


def records(redis: Any, user_id: str, session_id: str) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in redis.lrange(kv.chat_session(user_id, session_id), 0, -1)]


def append(redis: Any, user_id: str, session_id: str, record: dict[str, Any], *, keep: int, ttl: int) -> None:
    """Add one turn, keep the last ``keep`` and restart the session's lifetime, at once."""
    key, index = kv.chat_session(user_id, session_id), kv.chat_sessions(user_id)
    now = time.time()
    with redis.pipeline(transaction=True) as pipe:
        pipe.rpush(key, json.dumps({**record, "at": int(now)}, ensure_ascii=False))
        pipe.ltrim(key, -keep, -1)
        pipe.expire(key, ttl)
        pipe.zadd(index, {session_id: now + ttl})
        pipe.zremrangebyscore(index, "-inf", now)
        pipe.expire(index, ttl)
        pipe.execute()


def expires_in(redis: Any, user_id: str, session_id: str) -> int:
    """Seconds left; negative when there is no such session."""
    return int(redis.ttl(kv.chat_session(user_id, session_id)))


def delete(redis: Any, user_id: str, session_id: str) -> bool:
    """Whether there was such a session."""
    with redis.pipeline(transaction=True) as pipe:
        pipe.delete(kv.chat_session(user_id, session_id))
        pipe.zrem(kv.chat_sessions(user_id), session_id)
        deleted, _ = pipe.execute()
    return bool(deleted)


def erase_user(redis: Any, user_id: str) -> None:
    """Every session of ``user_id``: account deletion calls this."""
    index = kv.chat_sessions(user_id)
    ids = [i.decode() if isinstance(i, bytes) else i for i in redis.zrange(index, 0, -1)]
    redis.delete(index, *(kv.chat_session(user_id, i) for i in ids))
