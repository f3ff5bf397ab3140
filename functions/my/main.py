"""my: the user's profile, points balance and ledger, scan history and characters."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from eco2 import Call, Function, problems
from eco2.my import profiles
from eco2.pagination import PageQuery

if TYPE_CHECKING:
    from eco2.db import Connection

fn = Function("my", "/api/v1/user")


class PointsSummary(BaseModel):
    balance: int
    lifetime: int
    level: int
    level_name: str
    next_level_at: int | None


class Profile(BaseModel):
    user_id: UUID
    username: str = Field(description="The name the sign-in provider gives (the original's username), "
                                      "else the nickname")
    nickname: str
    phone_number: str | None
    email: str | None
    provider: str | None
    created_at: datetime
    last_login_at: datetime | None
    points: PointsSummary


class ProfilePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nickname: profiles.Nickname | None = None
    phone_number: str | None = Field(None, description="010-XXXX-XXXX; +82 accepted; null clears it")

    @field_validator("nickname")
    @classmethod
    def _kept(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("nickname cannot be cleared")
        return value

    @field_validator("phone_number")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else profiles.normalize_phone(value)

    @model_validator(mode="after")
    def _something(self) -> "ProfilePatch":
        if not self.model_fields_set:
            raise ValueError("no changes given")
        return self


class LedgerEntry(BaseModel):
    id: int
    amount: int
    reason: str
    source_id: str
    note: str | None
    created_at: datetime


@cache
def _ledger() -> TypeAdapter[list[LedgerEntry]]:
    """Parses PostgreSQL's JSON page of the ledger (built on first use, not at
    import: a cold start to /healthz does not pay for it)."""
    return TypeAdapter(list[LedgerEntry])


class LedgerPage(BaseModel):
    items: list[LedgerEntry]
    next_cursor: str | None


class ScanEntry(BaseModel):
    id: UUID
    created_at: datetime
    major_category: str
    middle_category: str | None
    item: str | None
    recyclable: bool
    correct: bool
    missing_steps: list[str]
    points: int
    character_code: str | None


class ScanPage(BaseModel):
    items: list[ScanEntry]
    next_cursor: str | None


class OwnedCharacter(BaseModel):
    id: UUID
    code: str
    name: str
    type: str = Field(description="The catalog's item string (the original's type)")
    dialog: str
    category: str | None
    items: list[str]
    tip: str
    acquired_at: datetime


class Ownership(BaseModel):
    code: str
    name: str
    character_name: str = Field(description="The character's name, as the original answered")
    owned: bool
    acquired_at: datetime | None


def _summary(balance: int, lifetime: int) -> PointsSummary:
    from eco2.my import points

    level = points.level_for(lifetime)
    return PointsSummary(balance=balance, lifetime=lifetime, level=level.level,
                         level_name=level.name, next_level_at=level.next_level_at)


def _existing(conn: "Connection", user_id: str) -> dict[str, Any]:
    """The profile (created on the first read, which grants 이코); 404 for a vanished user."""
    profile = profiles.read(conn, user_id)
    if profile is None:
        raise problems.user_gone()
    return profile


def _profile(conn: "Connection", user_id: str) -> Profile:
    profile = _existing(conn, user_id)
    totals = _summary(profile.pop("balance"), profile.pop("lifetime"))
    return Profile(**profile, points=totals)


@fn.get("/me", auth=True, response=Profile)
def me(call: Call) -> Profile:
    """The profile, created on first read (with 이코 as a welcome)."""
    with call.db.read() as conn:
        return _profile(conn, call.user.id)


# The released app's splash screen asks /api/v1/users/me (plural), which the
# original never served: its signed-in users were sent to login. The same
# profile here; function.yaml's aliases route /api/v1/users to my.
@fn.get("/api/v1/users/me", absolute=True, auth=True, response=Profile)
def me_for_the_splash(call: Call) -> Profile:
    """The profile, at the path the released app's splash screen asks."""
    return me(call)


@fn.patch("/me", auth=True, body=ProfilePatch, response=Profile)
def edit(call: Call) -> Profile:
    """Change the nickname and/or phone number."""
    with call.db.transaction() as conn:
        _existing(conn, call.user.id)
        profiles.update(conn, call.user.id, call.body.model_dump(include=call.body.model_fields_set))
        return _profile(conn, call.user.id)


@fn.delete("/me", auth=True, status=204)
def delete(call: Call) -> None:
    """Erase the account in every schema and revoke all of its tokens."""
    from eco2 import tokens
    from eco2.chat import sessions

    # Revoke first: if Redis cannot answer, nothing is deleted (503), and a
    # deletion never leaves the user's tokens working.
    tokens.revoke_all(call.redis, call.user.id, call.settings)
    sessions.erase_user(call.redis, call.user.id)  # the chat conversations, in Redis
    with call.db.transaction() as conn:
        live = profiles.delete_account(conn, call.user.id)
    tokens.deny(call.redis, live + [(call.user.jti, call.user.exp)], call.settings)


@fn.get("/me/points", auth=True, response=PointsSummary)
def points_summary(call: Call) -> PointsSummary:
    """Balance, lifetime points and level."""
    from eco2.my import points

    with call.db.read() as conn:
        return _summary(*points.totals(conn, call.user.id))


@fn.get("/me/points/history", auth=True, query=PageQuery, response=LedgerPage)
def points_history(call: Call) -> LedgerPage:
    """The points ledger, newest first."""
    from eco2 import pagination
    from eco2.my import points

    after = pagination.decode(call.query.cursor, pagination.bigint)
    with call.db.read() as conn:
        items, last = points.history(conn, call.user.id, after[0] if after else None, call.query.limit)
    # PostgreSQL's JSON, parsed by the model as it is.
    return LedgerPage(items=_ledger().validate_json(items),
                      next_cursor=None if last is None else pagination.encode(last))


@fn.get("/me/scans", auth=True, query=PageQuery, response=ScanPage)
def scan_history(call: Call) -> ScanPage:
    """The user's scans, newest first."""
    from eco2 import pagination
    from eco2.scan import history

    after = pagination.decode(call.query.cursor, pagination.timestamp, pagination.uuid)
    with call.db.read() as conn:
        rows = history.history(conn, call.user.id, after, call.query.limit + 1)
    items, cursor = pagination.page(rows, call.query.limit, "created_at", "id")
    return ScanPage(items=items, next_cursor=cursor)


@fn.get("/me/characters", auth=True, response=list[OwnedCharacter])
def my_characters(call: Call) -> list[dict[str, Any]]:
    """The characters the user owns, in catalog order."""
    from eco2.character import catalog

    with call.db.read() as conn:
        _existing(conn, call.user.id)
        owned = catalog.owned(conn, call.user.id)
    shown = OwnedCharacter.model_fields.keys() - {"acquired_at"}  # the catalog's attributes
    return [{**{name: getattr(c, name) for name in shown}, "acquired_at": owned[c.code]}
            for c in catalog.characters() if c.code in owned]


@fn.get("/me/characters/{code}/ownership", auth=True, response=Ownership)
def ownership(call: Call) -> Ownership:
    """Whether the user owns one character, named by its code or its name (페티)."""
    from eco2.character import catalog

    character = catalog.by_code_or_name(call.params["code"])
    if character is None:
        raise problems.not_found("No such character.")
    with call.db.read() as conn:
        acquired = catalog.owned(conn, call.user.id).get(character.code)
    return Ownership(code=character.code, name=character.name, character_name=character.name,
                     owned=acquired is not None, acquired_at=acquired)


handle = fn.build()
