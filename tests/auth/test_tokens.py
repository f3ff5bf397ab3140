"""Tokens: attacks on verification, refresh rotation and reuse, logout everywhere."""

from __future__ import annotations

import base64
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from eco2.testing import Client
from eco2_tools.functions import discover

from ..support import Keys, b64, bearer
from .conftest import AUTH, Flow


@pytest.fixture
def session(flow: Flow) -> dict:
    return flow.login("google", {"id": f"g-{uuid.uuid4()}", "name": "tester"})


def assert_refused(client: Client, token: str) -> None:
    result = client.get("/api/v1/auth/session", headers=bearer(token))
    assert result.status == 401, result.body
    assert result.content_type == "application/problem+json"


def test_a_good_token_is_accepted(auth: Client, keys: Keys) -> None:
    token = keys.forge()
    assert auth.get("/api/v1/auth/session", headers=bearer(token)).status == 200


def test_alg_none(auth: Client, keys: Keys) -> None:
    assert_refused(auth, keys.unsigned())


def test_hs256_with_the_public_key_as_secret(auth: Client, keys: Keys) -> None:
    assert_refused(auth, keys.hs256_with_public_key())


def test_wrong_kid(auth: Client, keys: Keys) -> None:
    assert_refused(auth, keys.forge(ec.generate_private_key(ec.SECP256R1()), "someone-else"))


def test_right_kid_wrong_key(auth: Client, keys: Keys) -> None:
    assert_refused(auth, keys.forge(ec.generate_private_key(ec.SECP256R1())))


@pytest.mark.parametrize(
    "bad",
    [
        {"exp": int(time.time()) - 3600},                       # expired
        {"nbf": int(time.time()) + 3600},                       # not yet valid
        {"iat": int(time.time()) + 3600},                       # issued in the future
        {"iss": "someone-else"},
        {"aud": "another-app"},
        {"sub": None},
        {"jti": None},
        {"exp": None},
        {"sub": "not-a-uuid"},
    ],
    ids=["expired", "nbf", "iat-future", "iss", "aud", "no-sub", "no-jti", "no-exp", "sub-not-uuid"],
)
def test_bad_claims(auth: Client, keys: Keys, bad: dict) -> None:
    assert_refused(auth, keys.forge(**bad))


def test_small_clock_skew_is_tolerated(auth: Client, keys: Keys) -> None:
    token = keys.forge(exp=int(time.time()) - 5)
    assert auth.get("/api/v1/auth/session", headers=bearer(token)).status == 200


def test_tampered_payload(auth: Client, session: dict) -> None:
    header, payload, signature = session["access_token"].split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    data["sub"] = str(uuid.uuid4())
    assert_refused(auth, f"{header}.{b64(json.dumps(data).encode())}.{signature}")


@pytest.mark.parametrize("garbage", ["", "x", "a.b.c", "Bearer", "." * 3, "eyJ" * 50])
def test_garbage(auth: Client, garbage: str) -> None:
    result = auth.get("/api/v1/auth/session", headers=bearer(garbage))
    assert result.status == 401


def test_cookie_is_accepted(auth: Client, session: dict) -> None:
    auth._client.set_cookie("s_access", session["access_token"])  # noqa: SLF001
    try:
        assert auth.get("/api/v1/auth/me").status == 200
    finally:
        auth._client.delete_cookie("s_access")  # noqa: SLF001


def refresh(auth: Client, token: str):
    return auth.post("/api/v1/auth/refresh", json={"refresh_token": token})


def test_refresh_rotates(auth: Client, session: dict) -> None:
    result = refresh(auth, session["refresh_token"])
    assert result.status == 200
    rotated = result.json
    assert rotated["refresh_token"] != session["refresh_token"]
    assert rotated["user_id"] == session["user_id"]
    assert auth.get("/api/v1/auth/me", headers=bearer(rotated["access_token"])).status == 200
    assert refresh(auth, rotated["refresh_token"]).status == 200


def test_refresh_from_cookie(auth: Client, session: dict) -> None:
    auth._client.set_cookie("s_refresh", session["refresh_token"], path="/api/v1/auth")  # noqa: SLF001
    try:
        assert auth.post("/api/v1/auth/refresh").status == 200
    finally:
        auth._client.delete_cookie("s_refresh", path="/api/v1/auth")  # noqa: SLF001


@pytest.fixture
def no_grace(auth_env: dict[str, str]) -> Client:
    """auth with the grace window off: every second use of a token is a reuse."""
    return Client(AUTH, env={**auth_env, "ECO2_REFRESH_GRACE_SECONDS": "0"})


def test_reuse_revokes_the_whole_family(no_grace: Client, session: dict) -> None:
    auth = no_grace
    first = refresh(auth, session["refresh_token"]).json
    second = refresh(auth, first["refresh_token"]).json
    reuse = refresh(auth, session["refresh_token"])  # the stolen original, replayed
    assert reuse.status == 401
    # every token of the family is now dead, including the newest pair
    assert refresh(auth, second["refresh_token"]).status == 401
    assert_refused(auth, second["access_token"])
    assert_refused(auth, first["access_token"])


def test_unknown_refresh_token(auth: Client) -> None:
    assert refresh(auth, "made-up").status == 401
    assert auth.post("/api/v1/auth/refresh").status == 401


def test_twenty_parallel_refreshes_one_wins_without_grace(auth_env: dict[str, str], flow: Flow) -> None:
    tokens = flow.login("kakao", {"id": str(uuid.uuid4().int % 10**9)})
    clients = [Client(AUTH, env={**auth_env, "ECO2_REFRESH_GRACE_SECONDS": "0"}) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda i: refresh(clients[i % 4], tokens["refresh_token"]).status, range(20)))
    assert statuses.count(200) == 1, statuses
    assert statuses.count(401) == 19


def test_logout_refuses_the_token_at_every_function(auth: Client, auth_env: dict[str, str], session: dict) -> None:
    token = session["access_token"]
    functions = [Client(spec.source, env=auth_env) for spec in discover()]
    for client in functions:
        assert client.get(f"{client.function.prefix}/session", headers=bearer(token)).status == 200
    logged_out = auth.post("/api/v1/auth/logout", headers=bearer(token))
    assert logged_out.status == 200 and logged_out.json["success"] is True  # the app waits for data.success
    for client in functions:
        result = client.get(f"{client.function.prefix}/session", headers=bearer(token))
        assert result.status == 401, client.function.name
    assert refresh(auth, session["refresh_token"]).status == 401


def test_logout_clears_cookies(auth: Client, session: dict) -> None:
    result = auth.post("/api/v1/auth/logout", headers=bearer(session["access_token"]))
    cleared = result.headers.getlist("Set-Cookie")
    assert any(c.startswith("s_access=;") for c in cleared)
    assert any(c.startswith("s_refresh=;") for c in cleared)


def test_dev_login_only_in_dev(auth: Client, auth_env: dict[str, str]) -> None:
    assert auth.post("/api/v1/auth/dev/login", json={"nickname": "dev"}).status == 404
    dev = Client(AUTH, env={**auth_env, "ECO2_ENV": "dev"})
    first = dev.post("/api/v1/auth/dev/login", json={"nickname": "  초록씨앗 "})
    assert first.status == 200
    again = dev.post("/api/v1/auth/dev/login", json={"nickname": "초록씨앗"})
    assert again.json["user_id"] == first.json["user_id"]
    me = dev.get("/api/v1/auth/me", headers=bearer(first.json["access_token"])).json
    assert me["nickname"] == "초록씨앗" and me["providers"] == ["dev"]
    assert dev.post("/api/v1/auth/dev/login", json={"nickname": "x"}).status == 422


def test_dev_login_does_not_exist_outside_dev(auth: Client, auth_env: dict[str, str]) -> None:
    """Not a route that answers 404: no route at all (issue 11, item 9). Its body
    is not even validated, and it is in no OpenAPI document but dev's."""
    for body in ({}, {"nickname": "x"}, {"nickname": 12}):
        result = auth.post("/api/v1/auth/dev/login", json=body)
        assert result.status == 404 and result.json["type"].endswith("no-route"), result.body
    assert "/api/v1/auth/dev/login" not in auth.get("/api/v1/auth/openapi.json").json["paths"]
    dev = Client(AUTH, env={**auth_env, "ECO2_ENV": "dev"})
    assert "/api/v1/auth/dev/login" in dev.get("/api/v1/auth/openapi.json").json["paths"]


def test_rate_limit(auth_env: dict[str, str]) -> None:
    limited = Client(AUTH, env={**auth_env, "ECO2_RATE_LIMIT_PER_MINUTE": "3"})
    statuses = [limited.get("/api/v1/auth/google").status for _ in range(4)]
    if statuses[-1] == 200:  # the minute turned over between requests: once more
        statuses = [limited.get("/api/v1/auth/google").status for _ in range(4)]
    assert statuses[-1] == 429
    result = limited.get("/api/v1/auth/google")
    assert 1 <= int(result.headers["Retry-After"]) <= 60


def test_redis_down_fails_closed_but_public_routes_work(auth_env: dict[str, str], session: dict) -> None:
    down = {**auth_env, "REDIS_URL": "redis://127.0.0.1:1/0"}
    for spec in discover():
        client = Client(spec.source, env=down)
        result = client.get(f"{spec.prefix}/session", headers=bearer(session["access_token"]))
        assert result.status == 503, spec.name
        assert "Retry-After" in result.headers
        assert client.get(f"{spec.prefix}/openapi.json").status == 200


def test_without_a_signing_key_issuing_fails_closed(auth_env: dict[str, str], flow: Flow) -> None:
    keyless = Client(AUTH, env={**auth_env, "ECO2_JWT_SIGNING_KEY_FILE": ""})
    result = keyless.post("/api/v1/auth/refresh", json={"refresh_token": "x"})
    assert result.status in (401, 503)  # no token to rotate is refused before the key is needed
    dev = Client(AUTH, env={**auth_env, "ECO2_JWT_SIGNING_KEY_FILE": "", "ECO2_ENV": "dev"})
    result = dev.post("/api/v1/auth/dev/login", json={"nickname": "keyless"})
    assert result.status == 503 and result.content_type == "application/problem+json"


def test_a_token_seen_before_is_refused_once_it_expires(auth_env: dict[str, str], keys: Keys) -> None:
    """Verified tokens are cached; the expiry is still checked on every use."""
    strict = Client(AUTH, env={**auth_env, "ECO2_JWT_LEEWAY_SECONDS": "0"})
    token = keys.forge(exp=int(time.time()) + 2)
    assert strict.get("/api/v1/auth/session", headers=bearer(token)).status == 200
    time.sleep(3)
    assert_refused(strict, token)
