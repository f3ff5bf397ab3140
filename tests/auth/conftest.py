from __future__ import annotations

import json
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from eco2.testing import Client, Result

from ..support import ROOT
from .fake_oauth import CLIENTS, FakeProvider

AUTH = ROOT / "functions" / "auth" / "main.py"
APP = "https://app.eco2.test"


@pytest.fixture(scope="module")
def fake_provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


@pytest.fixture
def auth_env(function_env: dict[str, str], fake_provider: FakeProvider) -> dict[str, str]:
    env = {
        **function_env,
        "ECO2_APP_ORIGINS": f"{APP},http://localhost:5173",
        "ECO2_AUTH_PUBLIC_URL": "https://auth.eco2.test",
        "ECO2_OAUTH_ENDPOINTS": json.dumps(fake_provider.endpoints()),
        "ECO2_OAUTH_ALLOWED_HOSTS": "127.0.0.1",
    }
    for provider, (client_id, secret) in CLIENTS.items():
        env[f"ECO2_OAUTH_{provider.upper()}_CLIENT_ID"] = client_id
        env[f"ECO2_OAUTH_{provider.upper()}_CLIENT_SECRET"] = secret
    return env


@pytest.fixture
def auth(auth_env: dict[str, str]) -> Client:
    return Client(AUTH, env=auth_env)


class Flow:
    """Drives a social login end to end: our start route, the provider's
    authorize endpoint over real HTTP, then our callback."""

    def __init__(self, auth: Client, fake: FakeProvider) -> None:
        self.auth, self.fake = auth, fake

    def start(self, provider: str, **query: str) -> Result:
        """Our start route; its answer's ``data`` (the original's envelope) is the login."""
        return self.auth.get(f"/api/v1/auth/{provider}", query=query or None)

    def authorize(self, provider: str, user: dict[str, Any], **query: str) -> dict[str, str]:
        """The provider's redirect back to us: {'code', 'state'}. The flow's
        cookie stays in the client's cookie jar, as a browser keeps it."""
        started = self.start(provider, **query)
        assert started.status == 200, started.body
        self.fake.next_user[provider] = user
        reply = httpx.get(started.json["data"]["authorization_url"], follow_redirects=False)
        assert reply.status_code == 302
        back = urlsplit(reply.headers["Location"])
        assert back.path == f"/api/v1/auth/{provider}/callback"
        return {k: v[0] for k, v in parse_qs(back.query).items()}

    def callback(self, provider: str, params: dict[str, str], json_reply: bool = True) -> Result:
        headers = {"Accept": "application/json"} if json_reply else {}
        return self.auth.get(f"/api/v1/auth/{provider}/callback", query=params, headers=headers)

    def login(self, provider: str, user: dict[str, Any]) -> dict[str, Any]:
        result = self.callback(provider, self.authorize(provider, user))
        assert result.status == 200, result.body
        return result.json


@pytest.fixture
def flow(auth: Client, fake_provider: FakeProvider) -> Flow:
    return Flow(auth, fake_provider)
