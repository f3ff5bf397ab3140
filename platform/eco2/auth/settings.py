"""Settings of the auth function, beyond the runtime's."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from eco2.config import CommaList, ExistingFile, Settings

PROVIDERS = ("google", "kakao", "naver")


class AuthSettings(Settings):
    # Without a key the function still starts (and verifies), but every route
    # that issues tokens answers 503: issuing fails closed.
    signing_key_file: ExistingFile = Field(None, alias="ECO2_JWT_SIGNING_KEY_FILE")
    refresh_ttl_seconds: int = Field(14 * 86400, ge=3600, le=90 * 86400, alias="ECO2_REFRESH_TTL_SECONDS")
    # A refresh token presented again this soon after its rotation gets a
    # sibling of its successor instead of revoking the family: the app's
    # parallel requests refresh with the same cookie (eco2.auth.sessions).
    # 0 turns the window off: every second use is a reuse.
    refresh_grace_seconds: int = Field(30, ge=0, le=300, alias="ECO2_REFRESH_GRACE_SECONDS")
    cookie_domain: str | None = Field(None, alias="ECO2_COOKIE_DOMAIN")
    # Origins the app runs on; after a social login the browser returns to one
    # of these and nowhere else. The first is the default.
    app_origins: CommaList = Field(default_factory=list, alias="ECO2_APP_ORIGINS")
    # Where the auth function is reached from outside: the OAuth redirect_uri base.
    public_url: str = Field("http://localhost:8080", alias="ECO2_AUTH_PUBLIC_URL")
    # Other base URLs the auth function is reached at (the app's API base URL,
    # when it is not ECO2_AUTH_PUBLIC_URL): a client's redirect_uri must be the
    # provider's callback under one of these or ECO2_AUTH_PUBLIC_URL.
    other_public_urls: CommaList = Field(default_factory=list, alias="ECO2_AUTH_OTHER_PUBLIC_URLS")
    google_client_id: str | None = Field(None, alias="ECO2_OAUTH_GOOGLE_CLIENT_ID")
    google_client_secret: str | None = Field(None, alias="ECO2_OAUTH_GOOGLE_CLIENT_SECRET")
    kakao_client_id: str | None = Field(None, alias="ECO2_OAUTH_KAKAO_CLIENT_ID")
    kakao_client_secret: str | None = Field(None, alias="ECO2_OAUTH_KAKAO_CLIENT_SECRET")
    naver_client_id: str | None = Field(None, alias="ECO2_OAUTH_NAVER_CLIENT_ID")
    naver_client_secret: str | None = Field(None, alias="ECO2_OAUTH_NAVER_CLIENT_SECRET")
    # {"google": {"authorize_url": ..., "token_url": ..., "userinfo_url": ...,
    # "issuer": ...}}: replaces a provider's endpoints and its ID tokens' issuer
    # (a test provider, a staging tenant).
    oauth_endpoints: dict[str, dict[str, str]] = Field(default_factory=dict, alias="ECO2_OAUTH_ENDPOINTS")
    # Hosts the server may call for token exchange and profiles: an allow-list,
    # so that configuration cannot point the server at an internal address.
    oauth_allowed_hosts: CommaList = Field(
        default_factory=lambda: [
            "oauth2.googleapis.com", "openidconnect.googleapis.com",
            "kauth.kakao.com", "kapi.kakao.com", "nid.naver.com", "openapi.naver.com",
        ],
        alias="ECO2_OAUTH_ALLOWED_HOSTS",
    )
    rate_limit_per_minute: int = Field(30, ge=1, le=10_000, alias="ECO2_RATE_LIMIT_PER_MINUTE")
    # How many proxies in front of us append to X-Forwarded-For (ALB, Kourier,
    # the dev gateway); the client is the address that many hops from the right.
    trusted_proxy_hops: int = Field(0, ge=0, le=5, alias="ECO2_TRUSTED_PROXY_HOPS")

    @field_validator("oauth_endpoints", mode="before")
    @classmethod
    def _json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) and value else value or {}

    @field_validator("app_origins", "other_public_urls")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
                raise ValueError("each entry must be an origin like https://app.example.com")
        return [origin.rstrip("/") for origin in value]

    @field_validator("oauth_endpoints")
    @classmethod
    def _known_providers(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        unknown = set(value) - set(PROVIDERS)
        if unknown:
            raise ValueError(f"unknown providers {sorted(unknown)}")
        return value

    def client(self, provider: str) -> tuple[str | None, str | None]:
        return getattr(self, f"{provider}_client_id"), getattr(self, f"{provider}_client_secret")
