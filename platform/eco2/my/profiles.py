"""The user's profile (schema ``my``): created on first read, with a generated
eco nickname when the sign-in gave none, and the mascot 이코 as a welcome."""

from __future__ import annotations

import re
import secrets
import unicodedata
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError

from eco2 import db

if TYPE_CHECKING:
    from eco2.db import Connection

# The project's own word lists for generated nicknames: adjective + noun.
ADJECTIVES = ("초록", "맑은", "푸른", "싱그러운", "반짝이는", "부지런한", "상쾌한", "산뜻한", "다정한", "씩씩한")
NOUNS = ("새싹", "숲지기", "지구친구", "나무", "고래", "다람쥐", "꿀벌", "분리왕", "이코친구", "바람")

# ASCII only: without re.ASCII, \d matches Arabic-Indic and mathematical digits
# and \s Unicode spaces, which would pass here and break the column's CHECK.
_PHONE = re.compile(r"^(?:\+?82[-\s]?0?|0)10[-\s]?(\d{4})[-\s]?(\d{4})$", re.ASCII)


# Unicode categories a nickname may not hold: controls (Cc), format characters
# (Cf: zero-width spaces and joiners, the bidi overrides and isolates that can
# reverse how a name reads), surrogates, private use, line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def _normalized(value: str) -> str:
    """NFKC (full-width and compatibility forms become the ordinary ones, so
    look-alikes do not make a second name), trimmed, with no invisible or
    direction-changing characters."""
    value = unicodedata.normalize("NFKC", value).strip()
    refused = sorted({f"U+{ord(c):04X}" for c in value if unicodedata.category(c) in _REFUSED_CATEGORIES})
    if refused:
        raise ValueError(f"nickname must not contain control, format or bidi characters ({', '.join(refused)})")
    if not 2 <= len(value) <= 20:
        raise ValueError("nickname must be 2-20 characters once normalized and trimmed")
    return value


# The nickname rule, for every route that takes one (auth's dev login, my's
# edit) and for the one a sign-in brings: at most 20 characters as sent (the
# documented maxLength holds for what is sent), and 2-20 once NFKC-normalized
# and trimmed, which is what is stored.
Nickname = Annotated[
    str,
    Field(min_length=2, max_length=20,
          description="2–20 characters; NFKC-normalized, surrounding spaces trimmed; "
                      "no control, format or bidi characters"),
    AfterValidator(_normalized),
]


@cache
def _nickname() -> TypeAdapter[str]:
    return TypeAdapter(Nickname)


def valid_nickname(value: str | None) -> str | None:
    """``value`` trimmed when it follows the nickname rule, else None."""
    try:
        return _nickname().validate_python(value)
    except ValidationError:
        return None


def generated_nickname() -> str:
    return secrets.choice(ADJECTIVES) + secrets.choice(NOUNS)


def normalize_phone(raw: str) -> str:
    """``010-XXXX-XXXX`` from 01012345678, 010 1234 5678, +82 10-1234-5678, ...;
    ValueError for anything else."""
    m = _PHONE.match(raw.strip())
    if not m:
        raise ValueError("must be a Korean mobile number like 010-1234-5678")
    return f"010-{m.group(1)}-{m.group(2)}"


def ensure(conn: "Connection", user_id: str) -> bool | None:
    """Create the profile if it does not exist yet; True when it was created,
    None when there is no such user. The first read also grants the mascot
    and its points."""
    user = db.row(conn, "SELECT nickname FROM auth.users WHERE id = %s FOR SHARE", (user_id,))
    if user is None:
        return None
    nickname = valid_nickname(user["nickname"]) or generated_nickname()
    created = conn.execute(
        """INSERT INTO my.profiles (user_id, nickname) VALUES (%s, %s)
           ON CONFLICT (user_id) DO NOTHING RETURNING 1""",
        (user_id, nickname),
    ).fetchone()
    if created:
        # Only a profile's creation grants: auth (which takes the nickname rule
        # from here) and an existing profile's read never load these.
        from eco2.character import catalog
        from eco2.my import points

        mascot = catalog.mascot()
        if catalog.grant(conn, user_id, mascot.code, "onboarding", user_id):
            points.credit(conn, user_id, "character", mascot.code, points.NEW_CHARACTER)
    return created is not None


def get(conn: "Connection", user_id: str) -> dict[str, Any] | None:
    """The profile with its point totals, in one round trip; None before the first read."""
    return db.row(
        conn,
        """SELECT p.user_id, coalesce(u.username, p.nickname) AS username, p.nickname, p.phone_number,
                  p.created_at, u.email, u.last_login_at,
                  (SELECT s.provider FROM auth.social_accounts s WHERE s.user_id = p.user_id
                    ORDER BY s.last_login_at DESC LIMIT 1) AS provider,
                  coalesce(b.balance, 0) AS balance, coalesce(b.lifetime, 0) AS lifetime
             FROM my.profiles p JOIN auth.users u ON u.id = p.user_id
             LEFT JOIN my.point_balances b ON b.user_id = p.user_id
            WHERE p.user_id = %s""",
        (user_id,),
    )


def read(conn: "Connection", user_id: str) -> dict[str, Any] | None:
    """The profile, created on the first read; None when there is no such user.
    A read of an existing profile is one query and writes nothing; the
    creation is a transaction of its own (a savepoint inside another)."""
    profile = get(conn, user_id)
    if profile is None:
        with conn.transaction():
            created = ensure(conn, user_id)
        if created is not None:
            profile = get(conn, user_id)
    return profile


EDITABLE = ("nickname", "phone_number")


def update(conn: "Connection", user_id: str, changes: dict[str, Any]) -> None:
    """Set the given editable columns; other keys are ignored."""
    from psycopg import sql

    columns = [c for c in EDITABLE if c in changes]
    if not columns:
        return
    query = sql.SQL("UPDATE my.profiles SET {}, updated_at = now() WHERE user_id = %s").format(
        sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in columns)
    )
    conn.execute(query, (*[changes[c] for c in columns], user_id))


def delete_account(conn: "Connection", user_id: str) -> list[tuple[str, int]]:
    """Erase the user everywhere (every per-user table cascades from auth.users);
    returns (jti, exp) of access tokens still alive, for the denylist."""
    live = conn.execute(
        """SELECT t.access_jti, extract(epoch FROM t.access_exp)::bigint
             FROM auth.refresh_tokens t JOIN auth.refresh_families f ON f.id = t.family_id
            WHERE f.user_id = %s AND t.access_exp > now()""",
        (user_id,),
    ).fetchall()
    conn.execute("DELETE FROM auth.users WHERE id = %s", (user_id,))
    return [(jti, int(exp)) for jti, exp in live]
