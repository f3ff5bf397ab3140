"""Chat sessions in Redis: the last turns of a conversation, for a while.

A session is a Redis list under ``kv.chat_session(user, id)``: one JSON
record per turn (the message, the answer, its sources and model), oldest
first, trimmed to the last ``history_turns`` and expiring
``session_ttl_seconds`` after the last message. The owner is part of the key,
so another user's id names nothing (a 404, the same as an expired session).
The set ``kv.chat_sessions(user)`` lists a user's session ids, so that
deleting the account erases them (:func:`erase_user`).
"""

from __future__ import annotations

import json
import time
from typing import Any

from dataclasses import dataclass

from eco2 import kv


@dataclass(frozen=True)
class Turn:
    """One exchange of a session: the user's message and the answer given."""

    message: str
    answer: str


def history(redis: Any, user_id: str, session_id: str) -> list[Turn]:
    """The session's turns, oldest first (none for a new or expired session)."""
    return [Turn(r["message"], r["user_answer"]) for r in records(redis, user_id, session_id)]


def records(redis: Any, user_id: str, session_id: str) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in redis.lrange(kv.chat_session(user_id, session_id), 0, -1)]


def append(redis: Any, user_id: str, session_id: str, record: dict[str, Any], *, keep: int, ttl: int) -> None:
    """Add one turn, keep the last ``keep`` and restart the session's lifetime, at once."""
    key, index = kv.chat_session(user_id, session_id), kv.chat_sessions(user_id)
    with redis.pipeline(transaction=True) as pipe:
        pipe.rpush(key, json.dumps({**record, "at": int(time.time())}, ensure_ascii=False))
        pipe.ltrim(key, -keep, -1)
        pipe.expire(key, ttl)
        pipe.sadd(index, session_id)
        pipe.expire(index, ttl)
        pipe.execute()


def expires_in(redis: Any, user_id: str, session_id: str) -> int:
    """Seconds left; negative when there is no such session."""
    return int(redis.ttl(kv.chat_session(user_id, session_id)))


def delete(redis: Any, user_id: str, session_id: str) -> bool:
    """Whether there was such a session."""
    with redis.pipeline(transaction=True) as pipe:
        pipe.delete(kv.chat_session(user_id, session_id))
        pipe.srem(kv.chat_sessions(user_id), session_id)
        deleted, _ = pipe.execute()
    return bool(deleted)


def erase_user(redis: Any, user_id: str) -> None:
    """Every session of ``user_id``: account deletion calls this."""
    index = kv.chat_sessions(user_id)
    ids = [i.decode() if isinstance(i, bytes) else i for i in redis.smembers(index)]
    redis.delete(index, *(kv.chat_session(user_id, i) for i in ids))
