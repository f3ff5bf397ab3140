"""The language model, through the ``openai`` package; imported here, on first use only.

``openai`` is the heaviest import in the project (1.1-1.6 s of a cold start
here), so nothing else in chat imports it: a health check, an offline answer
and every other function never pay for it. One client per configuration and
process keeps its connection pool warm.

Limits: a connect timeout, a read timeout per attempt, and for a stream a
deadline on the whole stream; the client's own retries (with its backoff,
honouring ``Retry-After``) on 408, 409, 429 and 5xx; ``max_tokens`` caps the
answer. Every failure becomes :class:`UpstreamError`, whose ``reason`` is
short and safe to log and show: never the exception's text, which can hold
the base URL.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from eco2.chat.settings import ChatSettings


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

            _clients[key] = openai.OpenAI(
                api_key=key_text,
                base_url=settings.openai_base_url,
                timeout=openai.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds),
                max_retries=settings.max_retries,
            )
        return _clients[key]


def _usage(raw: Any) -> Usage | None:
    if raw is None:
        return None
    return Usage(raw.prompt_tokens or 0, raw.completion_tokens or 0, raw.total_tokens or 0)


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
        text = response.choices[0].message.content or ""
    except (openai.OpenAIError, IndexError, AttributeError) as exc:
        raise _failure(exc) from None
    return Reply(text, response.model or settings.model, _usage(response.usage))


def stream(settings: "ChatSettings", messages: list[dict[str, Any]], temperature: float) -> Iterator[str | Reply]:
    """The answer's text pieces as they arrive, then the whole :class:`Reply`.
    Raises :class:`UpstreamError`, also after some pieces (a broken stream:
    the client raises an ``APIError`` for a body cut short)."""
    import openai

    deadline = time.monotonic() + settings.timeout_seconds
    pieces: list[str] = []
    model, usage, finished = settings.model, None, False
    try:
        chunks = _client(settings).chat.completions.create(
            **_request(settings, messages, temperature), stream=True, stream_options={"include_usage": True})
        with chunks:
            for chunk in chunks:
                model = chunk.model or model
                if chunk.usage is not None:
                    usage = _usage(chunk.usage)
                for choice in chunk.choices:
                    if choice.delta and choice.delta.content:
                        pieces.append(choice.delta.content)
                        yield choice.delta.content
                    finished = finished or choice.finish_reason is not None
                if time.monotonic() > deadline:
                    raise UpstreamError("timeout")
    except openai.OpenAIError as exc:
        raise _failure(exc) from None
    if not finished:  # the connection closed cleanly before the model said it was done
        raise UpstreamError("incomplete stream")
    yield Reply("".join(pieces), model, usage)
