from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from eco2.testing import Client

ROOT = Path(__file__).resolve().parents[2]
LOCATION = ROOT / "functions" / "location" / "main.py"


@pytest.fixture(scope="module")
def bearer(signing_keys: Path) -> dict[str, str]:
    """An Authorization header with a valid access token, minted as auth would."""
    key = serialization.load_pem_private_key((signing_keys / "signing.pem").read_bytes(), password=None)
    kid = json.loads((signing_keys / "jwks.json").read_text())["keys"][0]["kid"]
    now = int(time.time())
    claims = {"iss": "eco2-auth", "aud": "eco2-app", "sub": str(uuid.uuid4()), "jti": uuid.uuid4().hex,
              "iat": now, "nbf": now, "exp": now + 3600}
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='ES256', headers={'kid': kid})}"}


@pytest.fixture(scope="module")
def location(database_url: str, redis_server: str, key_env: dict[str, str]) -> Client:
    env = {"ECO2_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_server, **key_env}
    return Client(LOCATION, env=env)
