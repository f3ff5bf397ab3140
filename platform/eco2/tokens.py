"""Access tokens: ES256 JWTs signed by auth (:mod:`eco2.auth.signing`), verified
locally by every function.

Verification needs only the public JWKS from configuration, never a call to
the auth function (which may be scaled to zero), plus the denylist, read from
Redis once per token and then kept in process until Redis announces a change
(:mod:`eco2.tracking`). Every failure is a 401; a Redis that cannot answer is
a 503 (fail closed). PyJWT and cryptography are imported on the first token, not at
start-up.
"""

from __future__ import annotations

import functools
import json
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eco2 import kv
from eco2.problems import unauthorized
from eco2.tracking import tracked

if TYPE_CHECKING:
    from eco2.app import Call
    from eco2.config import Settings

ALGORITHM = "ES256"
REQUIRED_CLAIMS = ["iss", "aud", "sub", "jti", "iat", "exp"]
# The cookie a browser sends the access token in (auth sets it at sign-in).
ACCESS_COOKIE = "s_access"


@dataclass(frozen=True)
class Principal:
    """The verified caller: ``id`` is the user's UUID, ``sid`` its refresh family."""

    id: str
    jti: str
    iat: int
    exp: int
    sid: str | None = None


def bearer_token(call: "Call") -> str | None:
    """The access token from ``Authorization: Bearer`` or else the access cookie."""
    header = call.request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return call.request.cookies.get(ACCESS_COOKIE) or None


def load_jwks(settings: "Settings") -> dict[str, Any]:
    """The public JWKS from ``ECO2_JWKS`` (JSON) or ``ECO2_JWKS_FILE``."""
    if settings.jwks:
        return json.loads(settings.jwks)
    if settings.jwks_file:
        return json.loads(Path(settings.jwks_file).read_text())
    return {"keys": []}


class Verifier:
    """Checks a token's signature, claims and the Redis denylist."""

    def __init__(self, settings: "Settings") -> None:
        import jwt

        self._jwt = jwt
        self.settings = settings
        self.keys: dict[str, Any] = {}
        for jwk in load_jwks(settings).get("keys", []):
            # Only P-256 signing keys count; anything else in the set is ignored,
            # so an RSA or symmetric key can never be used to verify.
            if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256" and jwk.get("kid"):
                self.keys[jwk["kid"]] = jwt.PyJWK.from_dict(jwk, algorithm=ALGORITHM).key
        # A token that verified once verifies again: its signature, issuer and
        # audience cannot change. Only its expiry moves with the clock, so a
        # cached result is re-checked against it on every use. This saves the
        # ECDSA verification (about 0.2 ms) on each repeated request; failures
        # are exceptions and are never cached.
        self._verified = functools.lru_cache(maxsize=4096)(self._verify_signature)
        if not self.keys:
            from eco2 import logs

            logs.get("tokens").error("no ES256 key in ECO2_JWKS / ECO2_JWKS_FILE: every token is refused")

    def decode(self, token: str) -> Principal:
        """Signature and claims; raises a 401 Problem for anything wrong."""
        principal = self._verified(token)
        if principal.exp + self.settings.jwt_leeway_seconds < time.time():
            raise unauthorized("The token has expired.")
        return principal

    def _verify_signature(self, token: str) -> Principal:
        jwt = self._jwt
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise unauthorized("The token is malformed.") from None
        if header.get("alg") != ALGORITHM:
            raise unauthorized("The token's algorithm is not accepted.")
        key = self.keys.get(header.get("kid", ""))
        if key is None:
            raise unauthorized("The token was signed with an unknown key.")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("The token has expired.") from None
        except jwt.PyJWTError:
            raise unauthorized("The token is invalid.") from None
        try:
            user_id = str(uuid.UUID(str(claims["sub"])))
        except ValueError:
            raise unauthorized("The token is invalid.") from None
        return Principal(
            id=user_id,
            jti=str(claims["jti"]),
            iat=int(claims["iat"]),
            exp=int(claims["exp"]),
            sid=claims.get("sid"),
        )

    def check_revocation(self, principal: Principal, redis: Any) -> None:
        """The denylist (logged-out jti) and the user's revoked-before mark."""
        denied, revoked_before = tracked(redis, kv.REVOCATION_PREFIXES).mget(
            kv.denied_token(principal.jti), kv.user_revoked_before(principal.id)
        )
        if denied is not None:
            raise unauthorized("The token has been revoked.")
        if revoked_before is not None and principal.iat <= int(revoked_before):
            raise unauthorized("The token has been revoked.")

    def verify(self, call: "Call") -> Principal:
        token = bearer_token(call)
        if not token:
            raise unauthorized()
        principal = self.decode(token)
        self.check_revocation(principal, call.redis)
        return principal


_verifiers: dict[int, Verifier] = {}
_lock = threading.Lock()


def verifier(settings: "Settings") -> Verifier:
    """The Verifier for ``settings``, built once (keys parsed on first use)."""
    key = id(settings)
    found = _verifiers.get(key)
    if found is None:
        with _lock:
            found = _verifiers.get(key) or _verifiers.setdefault(key, Verifier(settings))
    return found


def authenticate(call: "Call") -> Principal:
    """The runtime's check for ``auth=True`` routes."""
    return verifier(call.settings).verify(call)


# Beyond the verifier's leeway, a revocation outlives the token by this much
# more, for clock differences between the pod that revokes and the one that
# verifies.
REVOCATION_MARGIN = 60


def deny(redis: Any, tokens: list[tuple[str, int]], settings: "Settings") -> None:
    """Put access tokens (jti, exp) on the denylist for as long as a verifier
    would still accept them: until ``exp`` plus the leeway (and a margin)."""
    now = int(time.time())
    with redis.pipeline(transaction=False) as pipe:
        for jti, exp in tokens:
            ttl = exp + settings.jwt_leeway_seconds + REVOCATION_MARGIN - now
            if ttl > 0:
                pipe.set(kv.denied_token(jti), b"1", ex=ttl)
        pipe.execute()


def revoke_all(redis: Any, user_id: str, settings: "Settings") -> None:
    """Refuse every access token issued to ``user_id`` up to now, for as long as
    any of them could still be accepted: the access TTL plus the leeway (and a margin)."""
    ttl = settings.access_ttl_seconds + settings.jwt_leeway_seconds + REVOCATION_MARGIN
    redis.set(kv.user_revoked_before(user_id), int(time.time()), ex=ttl)
