"""One message in, one answer out: the session's history, the grounding, the model.

:func:`answer` gives the whole record; :func:`stream` yields ``delta``
events as the model's text arrives, then one ``done`` with the same record.
A turn is saved to the session only once its answer is whole, so a failed
request leaves no half turn behind.

Without an API key the answer is composed offline (``model: "offline"``).
When the model fails before anything was sent (a timeout, 429 or 5xx after
the client's retries, a refused connection), the answer is the offline one,
marked ``degraded: true``: still the knowledge base's advice, never an error
dressed up as an answer. A stream that breaks after text was sent cannot be
taken back: it ends with an ``error`` event (503, ``upstream-unavailable``).
An answer that gives away the instructions or a secret (:class:`prompt.Guard`)
is replaced by :data:`WITHHELD`; while streaming, text is held back until it
cannot be the start of such a leak.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

from eco2 import logs
from eco2.chat import client, offline, prompt, sessions
from eco2.chat.grounding import Grounding, Photo, retrieve
from eco2.chat.settings import ChatSettings
from eco2.problems import Problem, unauthorized

WITHHELD = "그 내용은 알려 드릴 수 없어요. 분리배출에 관해 궁금한 것을 물어봐 주세요."
RETRY_AFTER = 5  # seconds, for a stream that broke off

log = logs.get("chat")


@dataclass(frozen=True)
class Ask:
    user_id: str
    message: str
    session_id: str | None = None
    temperature: float | None = None
    photo: Photo | None = None
    # The asking token's iat: the turn is not saved once the user's tokens up
    # to it were revoked (an account deleted while the answer was on its way).
    issued_at: int | None = None


@dataclass
class _Turn:
    """What one request works on, and its record once answered."""

    ask: Ask
    settings: ChatSettings
    session_id: str
    message_id: str
    grounding: Grounding
    history: list[sessions.Turn]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return prompt.messages(self.grounding, self.history, self.ask.message)

    @property
    def temperature(self) -> float:
        t = self.ask.temperature
        return self.settings.temperature if t is None else t

    def guard(self) -> prompt.Guard:
        s = self.settings
        secrets = [s.openai_api_key.get_secret_value() if s.openai_api_key else "", s.openai_base_url or ""]
        return prompt.guard(*secrets)

    def record(self, text: str, model: str, usage: client.Usage | None = None, degraded: bool = False) -> dict[str, Any]:
        photo = self.grounding.photo
        return {
            "user_answer": text,
            "session_id": self.session_id,
            "message_id": self.message_id,
            "sources": [vars(s) for s in self.grounding.sources],
            "model": model,
            "usage": vars(usage) if usage else None,
            "degraded": degraded,
            "photo": {
                "origin": photo.origin, "category": photo.category.code, "name": photo.category.name,
                "item": photo.item.id if photo.item else None, "missing_steps": list(photo.missing_steps),
            } if photo else None,
        }

    def offline(self, reason: str | None = None) -> dict[str, Any]:
        text = offline.compose(self.grounding)
        if reason is None:
            return self.record(text, offline.MODEL)
        logs.event(log, "model unavailable", logging.WARNING, reason=reason, session_id=self.session_id)
        return self.record(f"{offline.DEGRADED} {text}", offline.MODEL, degraded=True)

    def withheld(self, model: str, usage: client.Usage | None) -> dict[str, Any]:
        logs.event(log, "answer withheld", logging.WARNING, session_id=self.session_id)
        return self.record(WITHHELD, model, usage)

    def save(self, redis: Any, record: dict[str, Any]) -> dict[str, Any]:
        kept = {k: record[k] for k in ("message_id", "user_answer", "sources", "model", "photo")}
        saved = sessions.append(redis, self.ask.user_id, self.session_id, {"message": self.ask.message, **kept},
                                keep=self.settings.history_turns, ttl=self.settings.session_ttl_seconds,
                                issued_at=self.ask.issued_at)
        if not saved:
            raise unauthorized("The token has been revoked.")
        return record


def _begin(redis: Any, settings: ChatSettings, ask: Ask) -> _Turn:
    session_id = ask.session_id or uuid.uuid4().hex
    history = sessions.history(redis, ask.user_id, session_id)[-settings.history_turns:]
    previous = history[-1].topic if history else None
    return _Turn(ask, settings, session_id, uuid.uuid4().hex, retrieve(ask.message, ask.photo, previous), history)


def answer(redis: Any, settings: ChatSettings, ask: Ask) -> dict[str, Any]:
    """The answer to ``ask``, saved to its session."""
    turn = _begin(redis, settings, ask)
    if not settings.online:
        return turn.save(redis, turn.offline())
    try:
        reply = client.complete(settings, turn.messages, turn.temperature)
    except client.UpstreamError as exc:
        return turn.save(redis, turn.offline(exc.reason))
    if turn.guard().leaks(reply.text):
        return turn.save(redis, turn.withheld(reply.model, reply.usage))
    return turn.save(redis, turn.record(reply.text, reply.model, reply.usage))


def stream(redis: Any, settings: ChatSettings, ask: Ask) -> Iterator[tuple[str, Any]]:
    """``delta`` events ``{"text"}`` as the answer arrives, then ``done`` with the record.

    The turn is prepared (history read, knowledge searched) before the first
    event, when the caller starts iterating.
    """
    turn = _begin(redis, settings, ask)
    if not settings.online:
        record = turn.save(redis, turn.offline())
        yield "delta", {"text": record["user_answer"]}
        yield "done", record
        return
    guard, text, sent = turn.guard(), "", 0
    reply: client.Reply | None = None
    try:
        for piece in client.stream(settings, turn.messages, turn.temperature):
            if isinstance(piece, client.Reply):
                reply = piece
                break
            text += piece
            if guard.leaks_at_end(text, piece):
                break  # closing the generator closes the upstream stream
            safe = len(text) - guard.held_back(text)
            if safe > sent:
                yield "delta", {"text": text[sent:safe]}
                sent = safe
    except client.UpstreamError as exc:
        if sent:
            logs.event(log, "stream broke", logging.WARNING, reason=exc.reason, session_id=turn.session_id)
            raise Problem(503, "The answer broke off; try again shortly.", slug="upstream-unavailable",
                          headers={"Retry-After": str(RETRY_AFTER)}) from None
        record = turn.save(redis, turn.offline(exc.reason))
        yield "delta", {"text": record["user_answer"]}
        yield "done", record
        return
    if reply is None:  # a leak: what was sent is a harmless prefix; the record says what stands
        record = turn.save(redis, turn.withheld(settings.model, None))
    else:
        if len(text) > sent:
            yield "delta", {"text": text[sent:]}
        record = turn.save(redis, turn.record(reply.text, reply.model, reply.usage))
    yield "done", record
