"""Sessions: refresh token families with rotation, a grace window and reuse detection.

A sign-in starts a family. Each refresh marks the presented token used and
issues the next one, one generation on, and moves the family's head to that
generation; rotations of one family are serialized by a lock on its row.

The grace window: the app's parallel requests, all refused with one expired
access token, all refresh with the same cookie. A used token presented again
within ``ECO2_REFRESH_GRACE_SECONDS`` of its rotation, while its successor's
generation is still the head, gets a sibling of that successor (same
generation) instead of a refusal.

Why the window cannot fork a stolen token into a second session: every live
token of a family is in the head generation, and the first of them to rotate
moves the head on. A token whose generation is behind the head (a sibling
whose twin rotated first), or a used token outside its window, is a reuse:
the whole family is revoked and the access tokens it issued are denied. So two
branches never both go on: a rotation on either puts the other behind the
head, and the other's next refresh ends the family. A thief holding a sibling
keeps it only until the user's next refresh, as with any token stolen before
its use. The window is counted from the first rotation and never extended.

Every refusal gives the client the same message; the log keeps the reason.

:func:`sign_in`, :func:`renew` and :func:`log_out` are what the auth
function's routes call; the rest are their steps, each inside the caller's
transaction.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from eco2 import logs, tokens
from eco2.auth import accounts, signing
from eco2.problems import Problem
from eco2.tokens import Principal

if TYPE_CHECKING:
    import redis

    from eco2.auth.oauth import Profile
    from eco2.auth.settings import AuthSettings
    from eco2.auth.signing import Signer
    from eco2.db import Connection, Database

_log = logs.get("auth.sessions")


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


def _issue(conn: "Connection", signer: Signer, user_id: str, family_id: str, generation: int,
           access_ttl: int, refresh_ttl: int) -> TokenPair:
    access_token, access = signer.issue(user_id, access_ttl, sid=family_id)
    refresh_token = secrets.token_urlsafe(32)
    conn.execute(
        """INSERT INTO auth.refresh_tokens (token_hash, family_id, generation, expires_at, access_jti, access_exp)
           VALUES (%s, %s, %s, now() + make_interval(secs => %s), %s, to_timestamp(%s))""",
        (_hash(refresh_token), family_id, generation, refresh_ttl, access.jti, access.exp),
    )
    return TokenPair(user_id, access_token, access, refresh_token, refresh_ttl)


def start(conn: "Connection", signer: Signer, user_id: str, access_ttl: int, refresh_ttl: int) -> TokenPair:
    """A new family for ``user_id`` and its first pair of tokens."""
    (family_id,) = conn.execute(
        "INSERT INTO auth.refresh_families (user_id) VALUES (%s) RETURNING id", (user_id,)
    ).fetchone()
    return _issue(conn, signer, user_id, str(family_id), 0, access_ttl, refresh_ttl)


def rotate(conn: "Connection", signer: Signer, refresh_token: str, access_ttl: int, refresh_ttl: int,
           grace: int) -> TokenPair | Revoked:
    """The next pair for ``refresh_token``, or why not (module docstring)."""
    token_hash = _hash(refresh_token)
    # Lock the family first: every rotation of one family runs one at a time.
    family = conn.execute(
        """SELECT id, user_id, generation, revoked_at IS NOT NULL FROM auth.refresh_families
            WHERE id = (SELECT family_id FROM auth.refresh_tokens WHERE token_hash = %s)
              FOR UPDATE""",
        (token_hash,),
    ).fetchone()
    if family is None:
        return Revoked("unknown")
    family_id, user_id, head, revoked = str(family[0]), str(family[1]), family[2], family[3]
    if revoked:
        return Revoked("revoked")
    # Read the token after the lock (a new snapshot: READ COMMITTED), with the
    # clock as it is now, not when this transaction began.
    generation, used, in_grace, expired = conn.execute(
        """SELECT generation, used_at IS NOT NULL,
                  clock_timestamp() - used_at < make_interval(secs => %s),
                  expires_at <= clock_timestamp()
             FROM auth.refresh_tokens WHERE token_hash = %s""",
        (grace, token_hash),
    ).fetchone()
    if used or generation != head:
        if used and in_grace and head == generation + 1:
            return _issue(conn, signer, user_id, family_id, head, access_ttl, refresh_ttl)
        # Used outside its window, or behind the head (a twin rotated first).
        return Revoked("reuse", revoke_family(conn, family_id, "reuse"))
    if expired:
        return Revoked("expired")
    conn.execute("UPDATE auth.refresh_tokens SET used_at = clock_timestamp() WHERE token_hash = %s",
                 (token_hash,))
    conn.execute("UPDATE auth.refresh_families SET generation = %s WHERE id = %s", (head + 1, family_id))
    return _issue(conn, signer, user_id, family_id, head + 1, access_ttl, refresh_ttl)


def revoke_family(conn: "Connection", family_id: str, reason: str) -> list[tuple[str, int]]:
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


def family_of(conn: "Connection", refresh_token: str) -> str | None:
    row = conn.execute(
        "SELECT family_id FROM auth.refresh_tokens WHERE token_hash = %s", (_hash(refresh_token),)
    ).fetchone()
    return str(row[0]) if row else None


def sign_in(database: "Database", settings: "AuthSettings", profile: "Profile") -> TokenPair:
    """Upsert the user ``profile`` describes and start a session, in one transaction."""
    with database.transaction() as conn:
        user_id = accounts.upsert(conn, profile)
        return start(conn, signing.signer(settings), user_id, settings.access_ttl_seconds,
                     settings.refresh_ttl_seconds)


def renew(database: "Database", redis: "redis.Redis", settings: "AuthSettings", refresh_token: str) -> TokenPair:
    """The next pair for ``refresh_token``; a 401 for a refused one, whose
    family's access tokens (on reuse) are denied first."""
    with database.transaction() as conn:
        result = rotate(conn, signing.signer(settings), refresh_token, settings.access_ttl_seconds,
                        settings.refresh_ttl_seconds, settings.refresh_grace_seconds)
    if isinstance(result, Revoked):
        tokens.deny(redis, result.deny, settings)
        logs.event(_log, "refresh refused", logging.WARNING, reason=result.reason, denied=len(result.deny))
        raise refused()
    return result


def refused() -> Problem:
    """The one refusal of a refresh token, whatever the reason (only the log
    says it): a caller learns nothing about which tokens exist or were used."""
    return Problem(401, "The refresh token is not valid; sign in again.", slug="refresh-refused")


def log_out(database: "Database", redis: "redis.Redis", settings: "AuthSettings", access_token: str | None,
            refresh_token: str | None) -> None:
    """End the session: deny the access token and revoke its refresh family (and
    the family of ``refresh_token``). An expired or bad access token still logs
    the refresh token out."""
    principal = None
    if access_token:
        try:
            principal = tokens.verifier(settings).decode(access_token)
        except Problem:
            principal = None
    deny: list[tuple[str, int]] = [(principal.jti, principal.exp)] if principal else []
    with database.transaction() as conn:
        families = {principal.sid} if principal and principal.sid else set()
        if refresh_token:
            families.add(family_of(conn, refresh_token))
        for family in families - {None}:
            deny += revoke_family(conn, family, "logout")
    tokens.deny(redis, deny, settings)
