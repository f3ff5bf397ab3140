"""chat's settings, beyond the runtime's (``Function(..., settings=ChatSettings)``).

They include :class:`~eco2.image.settings.ImageSettings`: a photo's
``image_url`` must name an object of the upload bucket, configured once for
image, scan and chat. Without ``OPENAI_API_KEY`` chat answers offline, from
the knowledge base alone.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from eco2.image.settings import ImageSettings


class ChatSettings(ImageSettings):
    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY")
    # Any OpenAI-compatible server (a proxy, a local model server, the tests' fake).
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    model: str = Field("gpt-4o-mini", min_length=1, max_length=100, alias="ECO2_CHAT_MODEL")
    # Connecting to the API, and the longest wait for the answer (or, streamed,
    # for the whole stream) of one attempt.
    connect_timeout_seconds: float = Field(3.0, gt=0, le=30, alias="ECO2_CHAT_CONNECT_TIMEOUT_SECONDS")
    timeout_seconds: float = Field(30.0, gt=0, le=240, alias="ECO2_CHAT_TIMEOUT_SECONDS")
    # The openai client's own retries, with its backoff, on 408, 409, 429 and 5xx.
    max_retries: int = Field(2, ge=0, le=5, alias="ECO2_CHAT_MAX_RETRIES")
    max_output_tokens: int = Field(400, ge=16, le=4096, alias="ECO2_CHAT_MAX_OUTPUT_TOKENS")
    temperature: float = Field(0.2, ge=0, le=2, alias="ECO2_CHAT_TEMPERATURE")
    # Sessions: the last turns (a question and its answer) sent back as history,
    # kept this long after the last message.
    history_turns: int = Field(20, ge=1, le=100, alias="ECO2_CHAT_HISTORY_TURNS")
    session_ttl_seconds: int = Field(1800, ge=60, le=86_400, alias="ECO2_CHAT_SESSION_TTL_SECONDS")
    # Messages per user per minute.
    rate_limit: int = Field(20, ge=1, le=10_000, alias="ECO2_CHAT_RATE_LIMIT")

    @field_validator("openai_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        """Blank is OpenAI's; anything else must be an http(s) URL, checked at
        start: a typo would otherwise turn every answer into a degraded one."""
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL")
        return value

    @property
    def online(self) -> bool:
        """Whether a model answers: an API key is configured."""
        return bool(self.openai_api_key and self.openai_api_key.get_secret_value())
