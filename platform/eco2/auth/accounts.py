"""Users and their social accounts (schema ``auth``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eco2 import db

if TYPE_CHECKING:
    # For the annotations only: a refresh (sessions) needs accounts, never oauth.
    from eco2.auth.oauth import Profile
    from eco2.db import Connection


def upsert(conn: "Connection", profile: Profile) -> str:
    """The user for ``profile``, created or updated; returns the user id.

    The same provider id is always the same user. A new provider account joins
    an existing user only through an email that both providers verified.
    """
    # Serialize logins of the same account, so that two first logins at once
    # cannot both create a user.
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"login:{profile.provider}:{profile.subject}",)
    )
    row = conn.execute(
        """UPDATE auth.social_accounts
              SET last_login_at = now(), email = %s, email_verified = %s
            WHERE provider = %s AND provider_user_id = %s
        RETURNING user_id""",
        (profile.email, profile.email_verified, profile.provider, profile.subject),
    ).fetchone()
    if row:
        user_id = row[0]
    else:
        user_id = _linked_user(conn, profile) or _new_user(conn, profile)
        conn.execute(
            """INSERT INTO auth.social_accounts (user_id, provider, provider_user_id, email, email_verified)
               VALUES (%s, %s, %s, %s, %s)""",
            (user_id, profile.provider, profile.subject, profile.email, profile.email_verified),
        )
    # The provider's name for the person, as of this sign-in (the original
    # backend kept it the same way); a sign-in that brings none keeps the last.
    conn.execute(
        "UPDATE auth.users SET last_login_at = now(), username = coalesce(%s, username) WHERE id = %s",
        (username(profile), user_id),
    )
    return str(user_id)


def username(profile: Profile) -> str | None:
    """The username a sign-in brings: the provider's name for the person, else its nickname."""
    return profile.name or profile.nickname


def _linked_user(conn: "Connection", profile: Profile) -> Any:
    if not (profile.email and profile.email_verified):
        return None
    row = conn.execute(
        """SELECT user_id FROM auth.social_accounts
            WHERE email_verified AND lower(email) = lower(%s)
            ORDER BY created_at LIMIT 1""",
        (profile.email,),
    ).fetchone()
    return row[0] if row else None


def _new_user(conn: "Connection", profile: Profile) -> Any:
    return conn.execute(
        "INSERT INTO auth.users (nickname, email, profile_image_url) VALUES (%s, %s, %s) RETURNING id",
        (profile.nickname, profile.email, profile.picture),
    ).fetchone()[0]


def get(conn: "Connection", user_id: str) -> dict[str, Any] | None:
    """The user with the providers it signs in with; None when there is none."""
    return db.row(
        conn,
        """SELECT u.id, u.username, u.nickname, u.email, u.profile_image_url, u.created_at, u.last_login_at,
                  coalesce(array_agg(s.provider ORDER BY s.provider)
                           FILTER (WHERE s.provider IS NOT NULL), '{}') AS providers
             FROM auth.users u LEFT JOIN auth.social_accounts s ON s.user_id = u.id
            WHERE u.id = %s
            GROUP BY u.id""",
        (user_id,),
    )
