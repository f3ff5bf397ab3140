"""Social login against the local fake provider, for all three provider shapes."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from ..support import bearer
from .conftest import APP, Flow


@pytest.mark.parametrize("provider", ["google", "kakao", "naver"])
def test_start_returns_authorization_url(flow: Flow, provider: str) -> None:
    result = flow.start(provider)
    assert result.status == 200
    assert result.json["success"] is True  # the original's envelope
    body = result.json["data"]
    assert body["provider"] == provider and len(body["state"]) >= 32
    expires = datetime.fromisoformat(body["expires_at"])  # ISO 8601, as the original's
    assert 590 <= (expires - datetime.now(timezone.utc)).total_seconds() <= 600
    query = parse_qs(urlsplit(body["authorization_url"]).query)
    assert query["state"] == [body["state"]]
    assert query["redirect_uri"] == [f"https://auth.eco2.test/api/v1/auth/{provider}/callback"]
    if provider == "naver":
        assert "code_challenge" not in query  # Naver has no PKCE
    else:
        assert query["code_challenge_method"] == ["S256"]
    assert "nonce" in query


def test_unknown_provider_is_404(flow: Flow) -> None:
    result = flow.start("facebook")
    assert result.status == 404 and result.content_type == "application/problem+json"


@pytest.mark.parametrize("provider", ["google", "kakao", "naver"])
def test_full_flow_signs_in_and_me_works(flow: Flow, provider: str) -> None:
    tokens = flow.login(provider, {"id": "1001", "email": f"{provider}@example.com", "verified": True, "name": "나무"})
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    me = flow.auth.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status == 200
    assert me.json["providers"] == [provider]
    assert me.json["nickname"] == "나무"
    # PKCE: the verifier reached the token endpoint for the providers that use it
    sent = flow.fake.token_requests[-1]
    assert ("code_verifier" in sent) == (provider != "naver")


def test_same_provider_id_is_same_user(flow: Flow) -> None:
    first = flow.login("kakao", {"id": "77", "name": "a"})
    second = flow.login("kakao", {"id": "77", "name": "a"})
    assert first["user_id"] == second["user_id"]


def test_verified_email_links_providers(flow: Flow) -> None:
    google = flow.login("google", {"id": "g-5", "email": "Same@Example.com", "verified": True})
    kakao = flow.login("kakao", {"id": "5", "email": "same@example.com", "verified": True})
    assert google["user_id"] == kakao["user_id"]
    me = flow.auth.get("/api/v1/auth/me", headers=bearer(kakao["access_token"]))
    assert me.json["providers"] == ["google", "kakao"]


def test_unverified_email_does_not_link(flow: Flow) -> None:
    google = flow.login("google", {"id": "g-6", "email": "six@example.com", "verified": True})
    kakao = flow.login("kakao", {"id": "6", "email": "six@example.com", "verified": False})
    naver = flow.login("naver", {"id": "n-6", "email": "six@example.com"})
    assert len({google["user_id"], kakao["user_id"], naver["user_id"]}) == 3


def test_browser_flow_redirects_with_cookies(flow: Flow) -> None:
    params = flow.authorize("google", {"id": "g-7", "email": "b@example.com"})
    result = flow.callback("google", params, json_reply=False)
    assert result.status == 302
    assert result.headers["Location"] == f"{APP}/#/home"
    cookies = {c.split("=", 1)[0]: c for c in result.headers.getlist("Set-Cookie")}
    assert set(cookies) == {"s_access", "s_refresh", "s_flow"}
    assert cookies.pop("s_flow").startswith("s_flow=;")  # the login's flow cookie is spent: cleared
    for cookie in cookies.values():
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Path=/;" in cookies["s_access"] or cookies["s_access"].endswith("Path=/")
    assert "Path=/api/v1/auth" in cookies["s_refresh"]


def test_state_is_single_use(flow: Flow) -> None:
    params = flow.authorize("google", {"id": "g-8"})
    assert flow.callback("google", params).status == 200
    replay = flow.callback("google", params)
    assert replay.status == 401 and replay.json["type"].endswith("invalid-state")


def test_state_from_another_provider_is_refused(flow: Flow) -> None:
    params = flow.authorize("google", {"id": "g-9"})
    result = flow.callback("kakao", params)
    assert result.status == 401
    # and it is spent: it cannot be replayed at the right provider either
    assert flow.callback("google", params).status == 401


def test_unknown_state_is_refused(flow: Flow) -> None:
    assert flow.callback("google", {"state": "forged", "code": "x"}).status == 401


def test_redirect_to_foreign_origin_is_refused(flow: Flow) -> None:
    for target in ("https://evil.example", "https://app.eco2.test.evil.example", "javascript:alert(1)",
                   "//evil.example", "https://evil.example/?https://app.eco2.test"):
        result = flow.start("google", return_to=target)
        assert result.status == 401, target


def test_allowed_return_origin_is_used(flow: Flow) -> None:
    params = flow.authorize("google", {"id": "g-10"}, return_to="http://localhost:5173/some/page")
    result = flow.callback("google", params, json_reply=False)
    assert result.headers["Location"] == "http://localhost:5173/#/home"


def test_denied_consent(flow: Flow) -> None:
    started = flow.start("google").json["data"]
    browser = flow.callback("google", {"state": started["state"], "error": "access_denied"}, json_reply=False)
    assert browser.status == 302
    assert browser.headers["Location"] == f"{APP}/login?error=provider-denied"


def test_bad_code_is_provider_error(flow: Flow) -> None:
    started = flow.start("kakao").json["data"]
    result = flow.callback("kakao", {"state": started["state"], "code": "not-a-code"})
    assert result.status == 502


def test_jwks_publishes_public_keys_only(flow: Flow) -> None:
    result = flow.auth.get("/api/v1/auth/.well-known/jwks.json")
    assert result.status == 200
    keys = result.json["keys"]
    assert keys and all(k["kty"] == "EC" and k["alg"] == "ES256" and "d" not in k for k in keys)
    assert "max-age" in result.headers["Cache-Control"]
