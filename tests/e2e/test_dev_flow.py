"""The whole path a developer takes through `eco2 dev`: real function processes
behind the gateway, on the test PostgreSQL and Redis.

dev login -> profile (이코 owned, its points) -> nickname edit -> catalog and
analysis -> logout or account deletion -> the token is refused by every function.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from eco2_tools.functions import discover

from ..support import bearer
from ..gateway.harness import RunningGateway


@pytest.fixture
def gateway(start_gateway, database_url: str, redis_url: str, key_env: dict[str, str]) -> RunningGateway:
    return start_gateway(database_url=database_url, redis_url=redis_url, env=key_env)


def call(gw: RunningGateway, method: str, path: str, token: str | None = None, body: Any = None, host: str | None = None):
    headers = bearer(token) if token else {}
    if host:
        headers["Host"] = host
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    return gw.request(method, path, headers=headers, body=data)


def refused_everywhere(gw: RunningGateway, token: str) -> list[str]:
    """Functions (by host) that do NOT refuse ``token``."""
    accepted = []
    for spec in discover():
        reply = call(gw, "GET", f"{spec.prefix}/session", token, host=f"{spec.name}.localhost")
        if reply.status != 401:
            accepted.append(f"{spec.name}: {reply.status}")
    return accepted


pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def login(gw: RunningGateway, nickname: str) -> str:
    reply = call(gw, "POST", "/api/v1/auth/dev/login", body={"nickname": nickname})
    assert reply.status == 200, reply.body
    return reply.json()["access_token"]


def test_profile_collection_and_logout(gateway: RunningGateway) -> None:
    token = login(gateway, "개발자")
    me = call(gateway, "GET", "/api/v1/user/me", token)
    assert me.status == 200, me.body
    assert me.json()["nickname"] == "개발자" and me.json()["points"]["balance"] == 30
    owned = call(gateway, "GET", "/api/v1/user/me/characters", token).json()
    assert [c["code"] for c in owned] == ["char-eco"]
    edited = call(gateway, "PATCH", "/api/v1/user/me", token, {"nickname": "새이름"})
    assert edited.status == 200 and edited.json()["nickname"] == "새이름"
    assert call(gateway, "GET", "/api/v1/character/catalog").status == 200
    analysis = call(gateway, "GET", "/api/v1/character/me/analysis", token).json()
    assert analysis["owned"] == 1 and analysis["total"] == 13
    assert refused_everywhere(gateway, token) == [f"{s.name}: 200" for s in discover()]  # accepted by all
    logged_out = call(gateway, "POST", "/api/v1/auth/logout", token)
    assert logged_out.status == 200 and logged_out.json()["success"] is True
    assert refused_everywhere(gateway, token) == []


def test_account_deletion(gateway: RunningGateway) -> None:
    token = login(gateway, "지울사람")
    assert call(gateway, "GET", "/api/v1/user/me", token).status == 200
    assert call(gateway, "DELETE", "/api/v1/user/me", token).status == 204
    assert refused_everywhere(gateway, token) == []
