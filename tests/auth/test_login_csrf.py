"""Login CSRF (issue 11, item 1): a login's callback is accepted only from the
client that started it, and the ID token's nonce must be this login's.

The attack: someone starts a login with their own account and sends the
callback URL (code and state) to a victim, whose browser would then be signed
in to the attacker's account. The flow's secret, which only the starting
client holds (the s_flow cookie, or the X-Eco2-Flow header for a native
client), stops it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from eco2.testing import Client

from .conftest import AUTH, APP, Flow
from .fake_oauth import FakeProvider

CALLBACK = "/api/v1/auth/{}/callback"


def attacker_callback(auth_env: dict[str, str], fake: FakeProvider, provider: str = "google") -> dict[str, str]:
    """Code and state of a login the attacker started, in a client of their own."""
    attacker = Flow(Client(AUTH, env=auth_env), fake)
    return attacker.authorize(provider, {"id": "attacker", "name": "attacker"})


def session_cookies(result: Any) -> set[str]:
    """Cookies the answer sets with a value (not the ones it clears)."""
    return {c.split("=", 1)[0] for c in result.headers.getlist("Set-Cookie") if not c.split("=", 1)[1].startswith(";")}


def test_a_callback_from_another_client_is_refused_as_json(auth_env: dict[str, str], fake_provider: FakeProvider,
                                                           flow: Flow) -> None:
    params = attacker_callback(auth_env, fake_provider)
    flow.start("google")  # the victim has a login of its own under way: its own flow cookie
    result = flow.callback("google", params)
    assert result.status == 401, result.body
    assert result.json["type"].endswith("flow-mismatch")
    assert result.json["success"] is False and result.json["error"]["code"] == "FLOW_MISMATCH"


def test_a_callback_from_another_browser_goes_back_to_login(auth_env: dict[str, str],
                                                            fake_provider: FakeProvider, flow: Flow) -> None:
    params = attacker_callback(auth_env, fake_provider)
    result = flow.callback("google", params, json_reply=False)
    assert result.status == 302
    assert result.headers["Location"] == f"{APP}/login?error=flow-mismatch"
    assert session_cookies(result) == set()  # nobody was signed in


def test_the_state_is_spent_by_a_refused_callback(auth_env: dict[str, str], fake_provider: FakeProvider,
                                                  flow: Flow) -> None:
    """The attacker's own flow dies with the attempt: no second try with a stolen cookie."""
    params = attacker_callback(auth_env, fake_provider)
    assert flow.callback("google", params).status == 401
    assert flow.callback("google", params).json["type"].endswith("invalid-state")


@pytest.mark.parametrize("provider", ["google", "kakao", "naver"])
def test_a_native_client_proves_its_flow_with_the_header(auth_env: dict[str, str], fake_provider: FakeProvider,
                                                         provider: str) -> None:
    app = Client(AUTH, env=auth_env)
    started = app.get(f"/api/v1/auth/{provider}").json["data"]
    fake_provider.next_user[provider] = {"id": "8001", "name": "네이티브"}
    back = urlsplit(httpx.get(started["authorization_url"]).headers["Location"])
    params = {k: v[0] for k, v in parse_qs(back.query).items()}
    native = Client(AUTH, env=auth_env)  # a fresh cookie jar: the proof is the header alone
    wrong = native.get(CALLBACK.format(provider), query=params,
                       headers={"Accept": "application/json", "X-Eco2-Flow": "guessed"})
    assert wrong.status == 401 and wrong.json["type"].endswith("flow-mismatch")

    started = app.get(f"/api/v1/auth/{provider}").json["data"]
    back = urlsplit(httpx.get(started["authorization_url"]).headers["Location"])
    params = {k: v[0] for k, v in parse_qs(back.query).items()}
    result = native.get(CALLBACK.format(provider), query=params,
                        headers={"Accept": "application/json", "X-Eco2-Flow": started["flow_secret"]})
    assert result.status == 200, result.body
    assert result.json["access_token"]


def test_the_flow_cookie(flow: Flow) -> None:
    result = flow.start("kakao")
    [cookie] = [c for c in result.headers.getlist("Set-Cookie") if c.startswith("s_flow=")]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite", "path", "max-age"} <= attributes.keys()
    assert attributes["samesite"] == "SameSite=Lax" and attributes["path"] == "Path=/api/v1/auth"
    assert attributes["max-age"] == "Max-Age=600"
    assert cookie.startswith(f"s_flow={result.json['data']['flow_secret']};")
    assert result.headers.getlist("Cache-Control") == ["no-store"]  # the flow's secret: its policy only


# -- the OpenID Connect nonce ------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "claims"),
    [
        ("google", {"nonce": "another-login"}),
        ("google", {"nonce": None}),
        ("google", {"aud": "another-client"}),
        ("google", {"iss": "https://evil.example"}),
        ("google", {"exp": 1_000_000}),
        ("google", None),  # Google asked for openid: an answer without an ID token is wrong
        ("kakao", {"nonce": "another-login"}),
        ("kakao", {"aud": "another-client"}),
    ],
    ids=["google-nonce", "google-no-nonce", "google-aud", "google-iss", "google-expired", "google-none",
         "kakao-nonce", "kakao-aud"],
)
def test_a_bad_id_token_is_refused(flow: Flow, fake_provider: FakeProvider, provider: str,
                                   claims: dict[str, Any] | None) -> None:
    fake_provider.id_token_claims[provider] = claims
    try:
        params = flow.authorize(provider, {"id": "oidc-1", "name": "x"})
        result = flow.callback(provider, params)
    finally:
        fake_provider.id_token_claims.pop(provider)
    assert result.status == 401, result.body
    assert result.json["type"].endswith("invalid-id-token")


def test_kakao_without_openid_connect_still_signs_in(flow: Flow, fake_provider: FakeProvider) -> None:
    """Kakao sends an ID token only when OpenID Connect is on for the app: none is no error."""
    fake_provider.id_token_claims["kakao"] = None
    try:
        assert flow.login("kakao", {"id": "4242", "name": "카카오"})["access_token"]
    finally:
        fake_provider.id_token_claims.pop("kakao")


def test_a_bad_id_token_sends_the_browser_back_to_login(flow: Flow, fake_provider: FakeProvider) -> None:
    fake_provider.id_token_claims["google"] = {"nonce": "another-login"}
    try:
        params = flow.authorize("google", {"id": "oidc-2"})
        result = flow.callback("google", params, json_reply=False)
    finally:
        fake_provider.id_token_claims.pop("google")
    assert result.status == 302
    assert result.headers["Location"] == f"{APP}/login?error=invalid-id-token"
    assert session_cookies(result) == set()
