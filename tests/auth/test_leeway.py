"""A large JWT leeway does not undo logout (issue 11, item 5).

The verifier accepts a token until its ``exp`` plus ECO2_JWT_LEEWAY_SECONDS
(at most 300). The denylist entry a logout writes, and the revoked-before mark
an account's deletion writes, must live at least that long.
"""

from __future__ import annotations

import time

import jwt
import pytest
import redis

from eco2 import kv
from eco2.testing import Client
from eco2_tools.functions import discover

from ..support import ROOT, Keys, bearer
from .conftest import AUTH

MAX_LEEWAY = 300  # the largest ECO2_JWT_LEEWAY_SECONDS the settings accept
MY = ROOT / "functions" / "my" / "main.py"


@pytest.fixture
def leeway_env(auth_env: dict[str, str]) -> dict[str, str]:
    return {**auth_env, "ECO2_JWT_LEEWAY_SECONDS": str(MAX_LEEWAY)}


def test_the_leeway_is_at_most_the_maximum_tested_here(auth_env: dict[str, str]) -> None:
    from eco2 import config

    with pytest.raises(SystemExit):
        config.load(environ={"ECO2_JWT_LEEWAY_SECONDS": str(MAX_LEEWAY + 1)})


def test_a_token_inside_the_leeway_stays_refused_after_logout(leeway_env: dict[str, str], keys: Keys,
                                                              make_user) -> None:
    user_id, _ = make_user()
    # Expired 100 s ago: a verifier with 300 s of leeway still accepts it.
    token = keys.forge(sub=user_id, iat=int(time.time()) - 1000, nbf=int(time.time()) - 1000,
                       exp=int(time.time()) - 100)
    functions = [Client(spec.source, env=leeway_env) for spec in discover()]
    auth = next(c for c in functions if c.function.name == "auth")
    assert auth.get("/api/v1/auth/session", headers=bearer(token)).status == 200
    assert auth.post("/api/v1/auth/logout", headers=bearer(token)).status == 200
    for client in functions:
        result = client.get(f"{client.function.prefix}/session", headers=bearer(token))
        assert result.status == 401, client.function.name


def test_the_denylist_outlives_the_leeway(leeway_env: dict[str, str], keys: Keys, make_user) -> None:
    user_id, _ = make_user()
    token = keys.forge(sub=user_id)
    auth = Client(AUTH, env=leeway_env)
    assert auth.post("/api/v1/auth/logout", headers=bearer(token)).status == 200
    claims = jwt.decode(token, options={"verify_signature": False})
    store = redis.Redis.from_url(leeway_env["REDIS_URL"])
    ttl = store.ttl(kv.denied_token(claims["jti"]))
    store.close()
    assert ttl >= claims["exp"] + MAX_LEEWAY - time.time() - 1


def test_revoked_before_outlives_the_leeway(leeway_env: dict[str, str], make_user) -> None:
    user_id, token = make_user()
    my = Client(MY, env=leeway_env)
    assert my.delete("/api/v1/user/me", headers=bearer(token)).status == 204
    store = redis.Redis.from_url(leeway_env["REDIS_URL"])
    ttl = store.ttl(kv.user_revoked_before(user_id))
    store.close()
    access_ttl = my.function.settings.access_ttl_seconds
    # a token issued just before the deletion is accepted until iat + access TTL + leeway
    assert ttl >= access_ttl + MAX_LEEWAY - 1
