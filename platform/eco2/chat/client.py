"""The language model, through the ``openai`` package; imported here, on first use only.

``openai`` is the heaviest import in the project (1.1-1.6 s of a cold start
here), so nothing else in chat imports it: a health check, an offline answer
and every other function never pay for it. One client per configuration and
process keeps its connection pool warm.

Limits: a connect timeout, and a deadline on each attempt's whole response
(:mod:`eco2.chat.transport`: a read timeout alone restarts with every byte);
the client's own retries (with its backoff, honouring a ``Retry-After`` of up
to ``MAX_RETRY_WAIT``) on 408, 409, 429 and 5xx; ``max_tokens`` caps the
answer. Every failure becomes :class:`UpstreamError`, whose ``reason`` is
short and safe to log and show: never the exception's text, which can hold
the base URL. An answer of the wrong shape (a compatible server's bug) or an
empty one is a failure too, not an answer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from eco2.chat.settings import ChatSettings

# Seconds: the longest wait between retries (a longer Retry-After is shortened).
MAX_RETRY_WAIT = 10.0
# What a malformed answer raises while it is read: the openai client builds its
# objects without validating them, and a stream's chunk may not be JSON.
MALFORMED = (ValueError, TypeError, AttributeError, IndexError)


class UpstreamError(RuntimeError):
    """The model gave no (complete) answer: a timeout, a refused connection,
    a 429 or 5xx after the retries, or a stream that broke off."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class Reply:
    text: str
    model: str
    usage: Usage | None


_clients: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def _client(settings: "ChatSettings") -> Any:
    key_text = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    key = (settings.openai_base_url, key_text, settings.connect_timeout_seconds,
           settings.timeout_seconds, settings.max_retries)
    with _lock:
        if key not in _clients:
            import openai

            from eco2.chat.transport import Deadline

            _clients[key] = openai.OpenAI(
                api_key=key_text,
                base_url=settings.openai_base_url,
                timeout=openai.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds),
                max_retries=settings.max_retries,
                http_client=openai.DefaultHttpxClient(
                    transport=Deadline(settings.timeout_seconds, MAX_RETRY_WAIT)),
            )
        return _clients[key]


def _usage(raw: Any) -> Usage | None:
    """The token counts, or None when there are none or they are not counts."""
    counts = [getattr(raw, f, None) or 0 for f in ("prompt_tokens", "completion_tokens", "total_tokens")]
    if raw is None or not all(type(c) is int for c in counts):
        return None
    return Usage(*counts)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def _model(value: Any, default: str) -> str:
    return value if isinstance(value, str) and value else default


def _failure(exc: Exception) -> UpstreamError:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return UpstreamError("timeout")
    if isinstance(exc, openai.APIStatusError):
        return UpstreamError(f"status {exc.status_code}")
    if isinstance(exc, openai.APIConnectionError):
        return UpstreamError("connection")
    return UpstreamError(type(exc).__name__)


def _request(settings: "ChatSettings", messages: list[dict[str, Any]], temperature: float) -> dict[str, Any]:
    return {"model": settings.model, "messages": messages, "temperature": temperature,
            "max_tokens": settings.max_output_tokens}


def complete(settings: "ChatSettings", messages: list[dict[str, Any]], temperature: float) -> Reply:
    """One answer, whole. Raises :class:`UpstreamError`."""
    import openai

    try:
        response = _client(settings).chat.completions.create(**_request(settings, messages, temperature))
        text = _text(response.choices[0].message.content)
        reply = Reply(text, _model(response.model, settings.model), _usage(response.usage))
    except openai.OpenAIError as exc:
        raise _failure(exc) from None
    except MALFORMED:
        raise UpstreamError("malformed answer") from None
    if not text:
        raise UpstreamError("empty answer")
    return reply


def stream(settings: "ChatSettings", messages: list[dict[str, Any]], temperature: float) -> Iterator[str | Reply]:
    """The answer's text pieces as they arrive, then the whole :class:`Reply`.
    Raises :class:`UpstreamError`, also after some pieces (a broken stream:
    the client raises an ``APIError`` for a body cut short; the transport's
    deadline an ``APITimeoutError``)."""
    import openai

    pieces: list[str] = []
    model, usage, finished = settings.model, None, False
    try:
        chunks = _client(settings).chat.completions.create(
            **_request(settings, messages, temperature), stream=True, stream_options={"include_usage": True})
        with chunks:
            for chunk in chunks:
                model = _model(chunk.model, model)
                if chunk.usage is not None:
                    usage = _usage(chunk.usage)
                for choice in chunk.choices:
                    if choice.delta and (piece := _text(choice.delta.content)):
                        pieces.append(piece)
                        yield piece
                    finished = finished or choice.finish_reason is not None
    except openai.OpenAIError as exc:
        raise _failure(exc) from None
    except MALFORMED:
        raise UpstreamError("malformed answer") from None
    if not finished:  # the connection closed cleanly before the model said it was done
        raise UpstreamError("incomplete stream")
    if not pieces:
        raise UpstreamError("empty answer")
    yield Reply("".join(pieces), model, usage)
