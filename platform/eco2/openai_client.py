"""The OpenAI client, one per configuration and process, for chat and scan's vision refinement.

``openai`` is the heaviest import in the project (1.1-1.6 s of a cold start),
so this module imports nothing heavy itself: ``openai`` and the transport
(:mod:`eco2.openai_transport`) are imported when the first client is made.
A health check, chat's offline answer, a scan the local model is sure of and
every other function never pay for them.

Every client has the same limits: a connect timeout, a deadline on each
attempt's whole response (the transport: httpx's read timeout restarts with
every byte), the client's own retries (with its backoff, honouring a
``Retry-After`` shortened to ``MAX_RETRY_WAIT``) on 408, 409, 429 and 5xx. The
callers give the numbers from their settings; one client per set of them
keeps a connection pool warm.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import SecretStr

# Seconds: the longest wait between retries (a longer Retry-After is shortened).
MAX_RETRY_WAIT = 10.0

_clients: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def client(*, base_url: str | None, api_key: "SecretStr | None", timeout: float, connect_timeout: float,
           max_retries: int) -> Any:
    """The ``openai.OpenAI`` client for this configuration: ``timeout`` is each
    attempt's deadline, from the request to its answer's last byte."""
    key_text = api_key.get_secret_value() if api_key else ""
    key = (base_url, key_text, timeout, connect_timeout, max_retries)
    with _lock:
        if key not in _clients:
            import openai

            from eco2.openai_transport import Deadline

            _clients[key] = openai.OpenAI(
                api_key=key_text,
                base_url=base_url,
                timeout=openai.Timeout(timeout, connect=connect_timeout),
                max_retries=max_retries,
                http_client=openai.DefaultHttpxClient(transport=Deadline(timeout, MAX_RETRY_WAIT)),
            )
        return _clients[key]


def reason(exc: Exception) -> str:
    """Why a call failed, short and safe to log and show: never the
    exception's text, which can hold the base URL."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIStatusError):
        return f"status {exc.status_code}"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    return type(exc).__name__
