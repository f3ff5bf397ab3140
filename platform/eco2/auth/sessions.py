"""Sessions: refresh token families with rotation and reuse detection.

A sign-in starts a family. Each refresh marks the presented token used and
issues the next one in the same family, in one transaction that locks the
token's row, so of many concurrent refreshes with one token exactly one wins.
Presenting a token that was already used means it was copied: the whole
family is revoked, and the access tokens it issued are returned so the caller
can put them on the denylist.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from eco2.tokens import Principal, Signer


@dataclass
class TokenPair:
    user_id: str
    access_token: str
    access: Principal
    refresh_token: str
    refresh_ttl: int


@dataclass
class Revoked:
    """A refused refresh; ``deny`` lists (jti, exp) of access tokens to deny."""

    reason: str
    deny: list[tuple[str, int]] = field(default_factory=list)


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _issue(conn: Any, signer: Signer, user_id: str, family_id: str, access_ttl: int, refresh_ttl: int) -> TokenPair:
    access_token, access = signer.issue(user_id, access_ttl, sid=family_id)
    refresh_token = secrets.token_urlsafe(32)
    conn.execute(
        """INSERT INTO auth.refresh_tokens (token_hash, family_id, expires_at, access_jti, access_exp)
           VALUES (%s, %s, now() + make_interval(secs => %s), %s, to_timestamp(%s))""",
        (_hash(refresh_token), family_id, refresh_ttl, access.jti, access.exp),
    )
    return TokenPair(user_id, access_token, access, refresh_token, refresh_ttl)


def start(conn: Any, signer: Signer, user_id: str, access_ttl: int, refresh_ttl: int) -> TokenPair:
    """A new family for ``user_id`` and its first pair of tokens."""
    (family_id,) = conn.execute(
        "INSERT INTO auth.refresh_families (user_id) VALUES (%s) RETURNING id", (user_id,)
    ).fetchone()
    return _issue(conn, signer, user_id, str(family_id), access_ttl, refresh_ttl)


def rotate(conn: Any, signer: Signer, refresh_token: str, access_ttl: int, refresh_ttl: int) -> TokenPair | Revoked:
    row = conn.execute(
        """SELECT t.family_id, f.user_id, t.used_at IS NOT NULL, t.expires_at <= now(), f.revoked_at IS NOT NULL
             FROM auth.refresh_tokens t JOIN auth.refresh_families f ON f.id = t.family_id
            WHERE t.token_hash = %s
              FOR UPDATE OF t""",
        (_hash(refresh_token),),
    ).fetchone()
    if row is None:
        return Revoked("unknown")
    family_id, user_id, used, expired, revoked = str(row[0]), str(row[1]), row[2], row[3], row[4]
    if revoked:
        return Revoked("revoked")
    if used:
        return Revoked("reuse", revoke_family(conn, family_id, "reuse"))
    if expired:
        return Revoked("expired")
    conn.execute("UPDATE auth.refresh_tokens SET used_at = now() WHERE token_hash = %s", (_hash(refresh_token),))
    return _issue(conn, signer, user_id, family_id, access_ttl, refresh_ttl)


def revoke_family(conn: Any, family_id: str, reason: str) -> list[tuple[str, int]]:
    """Revoke a family; return (jti, exp) of its access tokens still unexpired."""
    conn.execute(
        """UPDATE auth.refresh_families SET revoked_at = now(), revoked_reason = %s
            WHERE id = %s AND revoked_at IS NULL""",
        (reason, family_id),
    )
    rows = conn.execute(
        """SELECT access_jti, extract(epoch FROM access_exp)::bigint FROM auth.refresh_tokens
            WHERE family_id = %s AND access_exp > now()""",
        (family_id,),
    ).fetchall()
    return [(jti, int(exp)) for jti, exp in rows]


def family_of(conn: Any, refresh_token: str) -> str | None:
    row = conn.execute(
        "SELECT family_id FROM auth.refresh_tokens WHERE token_hash = %s", (_hash(refresh_token),)
    ).fetchone()
    return str(row[0]) if row else None
