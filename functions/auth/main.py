"""auth: sign-in with Google, Kakao and Naver; tokens, refresh and logout; the JWKS."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator
from werkzeug.wrappers import Response

from eco2 import Call, Function, Problem
from eco2.auth.settings import AuthSettings

fn = Function("auth", "/api/v1/auth", settings=AuthSettings)


class LoginStart(BaseModel):
    provider: str
    state: str
    authorization_url: str
    expires_at: int


class LoginQuery(BaseModel):
    return_to: str | None = Field(None, max_length=2048, description="An allowed app origin to return to.")


class CallbackQuery(BaseModel):
    state: str = Field(min_length=1, max_length=256)
    code: str | None = Field(None, min_length=1, max_length=2048)
    error: str | None = Field(None, max_length=256)


class DevLogin(BaseModel):
    nickname: str = Field(min_length=2, max_length=20, description="2–20 characters, then trimmed")

    @field_validator("nickname")
    @classmethod
    def _trim(cls, value: str) -> str:
        # The documented length applies to what is sent; trimmed, it must still be 2.
        value = value.strip()
        if len(value) < 2:
            raise ValueError("nickname must be at least 2 characters besides spaces")
        return value


class RefreshRequest(BaseModel):
    refresh_token: str | None = Field(None, min_length=1, max_length=512)


class Tokens(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    user_id: UUID


class User(BaseModel):
    id: UUID
    nickname: str | None
    email: str | None
    profile_image_url: str | None
    providers: list[str]
    created_at: datetime
    last_login_at: datetime | None


class Jwks(BaseModel):
    keys: list[dict[str, str]]


def _limit(call: Call, bucket: str) -> None:
    from eco2 import ratelimit

    client = ratelimit.client_address(call.request, call.settings.trusted_proxy_hops)
    ratelimit.hit(call.redis, bucket, client, call.settings.rate_limit_per_minute)


def _reply(call: Call, pair: Any, status: int = 200) -> Response:
    """Tokens as JSON, and as cookies for browsers."""
    from eco2.auth import web

    body = Tokens(
        access_token=pair.access_token,
        expires_in=call.settings.access_ttl_seconds,
        refresh_token=pair.refresh_token,
        refresh_expires_in=pair.refresh_ttl,
        user_id=pair.user_id,
    )
    response = Response(body.model_dump_json(), status=status, content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    web.set_cookies(response, pair, call.settings)
    return response


def _sign_in(call: Call, profile: Any) -> Any:
    """Upsert the user and start a session, in one transaction."""
    from eco2.auth import accounts, sessions, web

    s = call.settings
    with call.db.transaction() as conn:
        user_id = accounts.upsert(conn, profile)
        return sessions.start(conn, web.signer(s), user_id, s.access_ttl_seconds, s.refresh_ttl_seconds)


@fn.get("/.well-known/jwks.json", response=Jwks)
def jwks(call: Call) -> Response:
    """The public keys that verify access tokens (several during a rotation)."""
    from eco2.tokens import load_jwks

    public = {"keys": [{k: v for k, v in key.items() if k != "d"} for key in load_jwks(call.settings)["keys"]]}
    response = Response(json.dumps(public), content_type="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@fn.get("/{provider}", query=LoginQuery, response=LoginStart)
def login(call: Call) -> dict[str, Any]:
    """Start a social login: returns the provider's authorization URL."""
    from eco2.auth import oauth

    _limit(call, "login")
    return oauth.begin(call.settings, call.redis, call.params["provider"], call.query.return_to)


@fn.get("/{provider}/callback", query=CallbackQuery, response=Tokens)
def callback(call: Call) -> Response:
    """The provider sends the browser back here with a code: sign the user in."""
    from eco2.auth import oauth, web

    _limit(call, "callback")
    name = call.params["provider"]
    oauth.provider(call.settings, name)  # 404 for an unknown provider before touching state
    record = oauth.take_state(call.redis, call.query.state, name)
    json_reply = web.wants_json(call.request.headers.get("Accept", ""))
    try:
        if call.query.error or not call.query.code:
            raise Problem(401, "The provider did not authorize the sign-in.", slug="provider-denied")
        token = oauth.exchange(call.settings, name, call.query.code, record)
        pair = _sign_in(call, oauth.profile(call.settings, name, token))
    except Problem as problem:
        if json_reply:
            raise
        # The state was ours, so its origin is trusted: send the browser back.
        return Response(status=302, headers={"Location": f"{record['origin']}/login?error={problem.slug}"})
    if json_reply:
        return _reply(call, pair)
    response = Response(status=302, headers={"Location": f"{record['origin']}/#/home"})
    web.set_cookies(response, pair, call.settings)
    return response


@fn.post("/dev/login", body=DevLogin, response=Tokens)
def dev_login(call: Call) -> Response:
    """Local development only (ECO2_ENV=dev): tokens for a user by nickname."""
    from eco2.auth.oauth import Profile

    if call.settings.env != "dev":
        raise Problem(404, f"No route for {call.request.path}.", slug="no-route")
    _limit(call, "dev-login")
    nickname = call.body.nickname
    return _reply(call, _sign_in(call, Profile("dev", nickname.lower(), None, False, nickname, None)))


@fn.post("/refresh", body=RefreshRequest, optional_body=True, response=Tokens)
def refresh(call: Call) -> Response:
    """Rotate the refresh token (cookie s_refresh or the body) into a new pair."""
    from eco2 import tokens
    from eco2.auth import sessions, web

    _limit(call, "refresh")
    presented = (call.body.refresh_token if call.body else None) or call.request.cookies.get(web.REFRESH_COOKIE)
    if not presented:
        raise Problem(401, "A refresh token is required.", slug="unauthorized")
    s = call.settings
    with call.db.transaction() as conn:
        result = sessions.rotate(conn, web.signer(s), presented, s.access_ttl_seconds, s.refresh_ttl_seconds)
    if isinstance(result, sessions.Revoked):
        tokens.deny(call.redis, result.deny)
        raise Problem(401, f"The refresh token is {result.reason}.", slug="refresh-refused")
    return _reply(call, result)


@fn.post("/logout", status=204)
def logout(call: Call) -> Response:
    """End the session: deny the access token, revoke its refresh family."""
    from eco2 import tokens
    from eco2.auth import sessions, web

    principal = None
    token = tokens.bearer_token(call)
    if token:
        try:
            principal = tokens.verifier(call.settings).decode(token)
        except Problem:
            principal = None  # an expired or bad token still logs the cookies out
    refresh_token = call.request.cookies.get(web.REFRESH_COOKIE)
    deny: list[tuple[str, int]] = [(principal.jti, principal.exp)] if principal else []
    with call.db.transaction() as conn:
        families = {principal.sid} if principal and principal.sid else set()
        if refresh_token:
            families.add(sessions.family_of(conn, refresh_token))
        for family in families - {None}:
            deny += sessions.revoke_family(conn, family, "logout")
    tokens.deny(call.redis, deny)
    response = Response(status=204)
    web.clear_cookies(response, call.settings)
    return response


@fn.get("/me", auth=True, response=User)
def me(call: Call) -> dict[str, Any]:
    """The signed-in user."""
    from eco2.auth import accounts

    with call.db.read() as conn:
        user = accounts.get(conn, call.user.id)
    if user is None:
        raise Problem(404, "The user no longer exists.", slug="not-found")
    return user


handle = fn.build()
