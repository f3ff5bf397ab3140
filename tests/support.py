"""What the tests share besides fixtures: the repository root, problem and
header helpers, and one way to mint and to forge access tokens."""

from __future__ import annotations

import base64
import json
import socket
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# checkov has a venv of its own, made by `make install` from .ci/checkov.txt
# (its pins would downgrade the project's packages; the file says which).
CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
PROBLEM = "application/problem+json"
ISS, AUD = "eco2-auth", "eco2-app"  # the runtime's default issuer and audience


def is_problem(result: Any, status: int | tuple[int, ...]) -> bool:
    """``result`` (an eco2.testing Result) is RFC 9457 problem+json with ``status`` (or one of them)."""
    statuses = status if isinstance(status, tuple) else (status,)
    return (result.status in statuses and result.content_type == PROBLEM
            and result.json.get("status") == result.status)


def refused(port: int) -> bool:
    """A TCP connection to 127.0.0.1:``port`` is refused (nothing listens: a
    server that closed its listener on SIGTERM, say)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64(data: bytes) -> str:
    """base64url without padding, as JWTs encode their parts."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid access-token claims for a random user; an override of None drops the claim."""
    now = int(time.time())
    base = {"iss": ISS, "aud": AUD, "sub": str(uuid.uuid4()), "jti": uuid.uuid4().hex,
            "iat": now, "nbf": now, "exp": now + 600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


class Keys:
    """The tests' signing key (a directory `eco2 keys generate` made): tokens
    issued exactly as auth issues them, and forged ones."""

    def __init__(self, directory: Path) -> None:
        from cryptography.hazmat.primitives import serialization

        from eco2 import config
        from eco2.auth.signing import Signer

        self.directory = directory
        self.env = {"ECO2_JWT_SIGNING_KEY_FILE": str(directory / "signing.pem"),
                    "ECO2_JWKS_FILE": str(directory / "jwks.json")}
        pem = (directory / "signing.pem").read_bytes()
        self.private_key = serialization.load_pem_private_key(pem, password=None)
        self.signer = Signer(config.load(environ=self.env), pem)
        self.kid = self.signer.kid

    def issue(self, user_id: str, ttl: int = 3600) -> str:
        """An access token for ``user_id``, signed as auth signs them."""
        token, _ = self.signer.issue(user_id, ttl)
        return token

    def forge(self, key: Any = None, kid: str | None = "", alg: str = "ES256", **overrides: Any) -> str:
        """A token over :func:`claims` (with ``overrides``), signed with ``key``
        (default: ours) under header ``kid`` (default: ours; None: no kid)."""
        import jwt

        headers = {"kid": self.kid if kid == "" else kid} if kid is not None else {}
        return jwt.encode(claims(**overrides), key or self.private_key, algorithm=alg, headers=headers)

    def unsigned(self, **overrides: Any) -> str:
        """``alg: none``, no signature."""
        header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": self.kid}).encode())
        return f"{header}.{b64(json.dumps(claims(**overrides)).encode())}."

    def hs256_with_public_key(self, **overrides: Any) -> str:
        """HS256 with our public key as the HMAC secret (the algorithm-confusion attack)."""
        import hashlib
        import hmac

        from cryptography.hazmat.primitives import serialization

        public_pem = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": self.kid}).encode())
        payload = b64(json.dumps(claims(**overrides)).encode())
        signature = b64(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{signature}"


def mint(database_url: str, keys: Keys, nickname: str | None = None, ttl: int = 3600) -> tuple[str, str]:
    """A user in auth.users and an access token for it: ``(user_id, token)``."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        (user_id,) = conn.execute(
            "INSERT INTO auth.users (nickname) VALUES (%s) RETURNING id", (nickname,)
        ).fetchone()
    return str(user_id), keys.issue(str(user_id), ttl)
