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

Deleting an account revokes the user's tokens, then erases the sessions. A
message whose token was checked before the revocation may finish after the
erasure (a streamed answer takes seconds): :func:`append` writes nothing
for a token issued before the user's revoked-before mark, checked in the same
Redis transaction as the write (``WATCH``), so no turn outlives the account.
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


def append(redis: Any, user_id: str, session_id: str, record: dict[str, Any], *, keep: int, ttl: int,
           issued_at: int | None = None) -> bool:
    """Add one turn, keep the last ``keep`` and restart the session's lifetime,
    at once. With ``issued_at`` (the asking token's ``iat``), nothing is written
    once the user's tokens up to it were revoked (account deletion): False."""
    key, index = kv.chat_session(user_id, session_id), kv.chat_sessions(user_id)
    revoked = kv.user_revoked_before(user_id)
    now = time.time()
    line = json.dumps({**record, "at": int(now)}, ensure_ascii=False)

    def write(pipe: Any) -> bool:
        # redis-py's transaction(): the revoked-before key is WATCHed, so a
        # revocation between this read and EXEC aborts the write and it runs again.
        if issued_at is not None and (mark := pipe.get(revoked)) is not None and issued_at <= int(mark):
            return False
        pipe.multi()
        pipe.rpush(key, line)
        pipe.ltrim(key, -keep, -1)
        pipe.expire(key, ttl)
        pipe.zadd(index, {session_id: now + ttl})
        pipe.zremrangebyscore(index, "-inf", now)
        pipe.expire(index, ttl)
        return True

    return bool(redis.transaction(write, revoked, value_from_callable=True))


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
    """Every session of ``user_id``: account deletion calls this, after revoking
    the user's tokens. The index is WATCHed: a turn added while the ids are
    read makes the deletion run again with it."""
    index = kv.chat_sessions(user_id)

    def erase(pipe: Any) -> None:
        ids = [i.decode() if isinstance(i, bytes) else i for i in pipe.zrange(index, 0, -1)]
        pipe.multi()
        pipe.delete(index, *(kv.chat_session(user_id, i) for i in ids))

    redis.transaction(erase, index)
