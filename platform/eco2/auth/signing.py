"""Signing access tokens: only auth (and `eco2 keys`) hold a private key.

Verification, which every function does with the public JWKS, is the
runtime's :mod:`eco2.tokens`.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eco2.problems import unavailable
from eco2.tokens import ALGORITHM, Principal

if TYPE_CHECKING:
    from eco2.auth.settings import AuthSettings
    from eco2.config import Settings


class Signer:
    """Issues access tokens with the PEM private key in ``ECO2_JWT_SIGNING_KEY_FILE``."""

    def __init__(self, settings: "Settings", pem: bytes) -> None:
        import jwt
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        self._jwt = jwt
        self.settings = settings
        self.private_key = load_pem_private_key(pem, password=None)
        self.kid = public_jwk(self.private_key.public_key())["kid"]

    def issue(self, user_id: str, ttl: int, sid: str | None = None, now: int | None = None) -> tuple[str, Principal]:
        now = int(time.time()) if now is None else now
        principal = Principal(id=user_id, jti=secrets.token_urlsafe(16), iat=now, exp=now + ttl, sid=sid)
        claims: dict[str, Any] = {
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "sub": user_id,
            "jti": principal.jti,
            "iat": now,
            "nbf": now,
            "exp": principal.exp,
        }
        if sid:
            claims["sid"] = sid
        token = self._jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})
        return token, principal


def public_jwk(public_key: Any) -> dict[str, Any]:
    """The JWK of a P-256 public key, with its RFC 7638 thumbprint as ``kid``."""
    import base64
    import hashlib

    import jwt

    full = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public_key))
    core = {k: full[k] for k in ("crv", "kty", "x", "y")}  # RFC 7638: required members, sorted
    digest = hashlib.sha256(json.dumps(core, separators=(",", ":")).encode()).digest()
    kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return {**core, "kid": kid, "use": "sig", "alg": ALGORITHM}


_signers: dict[str, Signer] = {}
_lock = threading.Lock()


def signer(settings: "AuthSettings") -> Signer:
    """The signer for the configured private key, loaded once."""
    path = settings.signing_key_file
    if not path:
        raise unavailable("No signing key is configured (ECO2_JWT_SIGNING_KEY_FILE).")
    found = _signers.get(path)
    if found is None:
        with _lock:
            found = _signers.setdefault(path, Signer(settings, Path(path).read_bytes()))
    return found
