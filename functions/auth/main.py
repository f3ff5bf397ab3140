"""auth: sign-in with Google, Kakao and Naver; tokens, refresh and logout; the JWKS."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field
from werkzeug.wrappers import Response

from eco2 import Call, Function, Problem, problems
from eco2.auth.settings import AuthSettings
from eco2.my.profiles import Nickname
from eco2.tokens import ACCESS_COOKIE

fn = Function("auth", "/api/v1/auth", settings=AuthSettings)

REFRESH_COOKIE = "s_refresh"
# The refresh cookie goes only to the auth routes; the access cookie everywhere.
REFRESH_COOKIE_PATH = "/api/v1/auth"


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
    nickname: Nickname


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


def _set_cookies(response: Response, pair: Any, settings: AuthSettings) -> None:
    common = {"domain": settings.cookie_domain, "secure": settings.env != "dev", "httponly": True,
              "samesite": "Lax"}
    response.set_cookie(ACCESS_COOKIE, pair.access_token, max_age=settings.access_ttl_seconds, path="/", **common)
    response.set_cookie(REFRESH_COOKIE, pair.refresh_token, max_age=pair.refresh_ttl, path=REFRESH_COOKIE_PATH,
                        **common)


def _reply(call: Call, pair: Any) -> Response:
    """Tokens as JSON (never cached), and as cookies for browsers."""
    body = Tokens(
        access_token=pair.access_token,
        expires_in=call.settings.access_ttl_seconds,
        refresh_token=pair.refresh_token,
        refresh_expires_in=pair.refresh_ttl,
        user_id=pair.user_id,
    )
    response = Response(body.model_dump_json(), content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    _set_cookies(response, pair, call.settings)
    return response


@fn.get("/.well-known/jwks.json", response=Jwks, cache="public, max-age=300")
def jwks(call: Call) -> dict[str, Any]:
    """The public keys that verify access tokens (several during a rotation)."""
    from eco2.tokens import load_jwks

    return {"keys": [{k: v for k, v in key.items() if k != "d"} for key in load_jwks(call.settings)["keys"]]}


@fn.get("/{provider}", query=LoginQuery, response=LoginStart)
def login(call: Call) -> dict[str, Any]:
    """Start a social login: returns the provider's authorization URL."""
    from eco2.auth import oauth

    _limit(call, "login")
    return oauth.begin(call.settings, call.redis, call.params["provider"], call.query.return_to)


@fn.get("/{provider}/callback", query=CallbackQuery, response=Tokens)
def callback(call: Call) -> Response:
    """The provider sends the browser back here with a code: sign the user in."""
    from eco2.auth import oauth, sessions

    _limit(call, "callback")
    name = call.params["provider"]
    oauth.provider(call.settings, name)  # 404 for an unknown provider before touching state
    record = oauth.take_state(call.redis, call.query.state, name)
    json_reply = "application/json" in call.request.headers.get("Accept", "").lower()
    try:
        if call.query.error or not call.query.code:
            raise Problem(401, "The provider did not authorize the sign-in.", slug="provider-denied")
        token = oauth.exchange(call.settings, name, call.query.code, record)
        pair = sessions.sign_in(call.db, call.settings, oauth.profile(call.settings, name, token))
    except Problem as problem:
        if json_reply:
            raise
        # The state was ours, so its origin is trusted: send the browser back.
        return Response(status=302, headers={"Location": f"{record['origin']}/login?error={problem.slug}"})
    if json_reply:
        return _reply(call, pair)
    response = Response(status=302, headers={"Location": f"{record['origin']}/#/home"})
    _set_cookies(response, pair, call.settings)
    return response


@fn.post("/dev/login", body=DevLogin, response=Tokens)
def dev_login(call: Call) -> Response:
    """Local development only (ECO2_ENV=dev): tokens for a user by nickname."""
    from eco2.auth import sessions
    from eco2.auth.oauth import Profile

    if call.settings.env != "dev":
        raise problems.no_route(call.request.path)
    _limit(call, "dev-login")
    nickname = call.body.nickname
    profile = Profile("dev", nickname.lower(), None, False, nickname, None)
    return _reply(call, sessions.sign_in(call.db, call.settings, profile))


@fn.post("/refresh", body=RefreshRequest, optional_body=True, response=Tokens)
def refresh(call: Call) -> Response:
    """Rotate the refresh token (cookie s_refresh or the body) into a new pair."""
    from eco2.auth import sessions

    _limit(call, "refresh")
    presented = (call.body.refresh_token if call.body else None) or call.request.cookies.get(REFRESH_COOKIE)
    if not presented:
        raise Problem(401, "A refresh token is required.", slug="unauthorized")
    return _reply(call, sessions.renew(call.db, call.redis, call.settings, presented))


@fn.post("/logout", status=204)
def logout(call: Call) -> Response:
    """End the session: deny the access token, revoke its refresh family."""
    from eco2 import tokens
    from eco2.auth import sessions

    sessions.log_out(call.db, call.redis, call.settings, tokens.bearer_token(call),
                     call.request.cookies.get(REFRESH_COOKIE))
    response = Response(status=204)
    response.delete_cookie(ACCESS_COOKIE, path="/", domain=call.settings.cookie_domain)
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, domain=call.settings.cookie_domain)
    return response


@fn.get("/me", auth=True, response=User)
def me(call: Call) -> dict[str, Any]:
    """The signed-in user."""
    from eco2.auth import accounts

    with call.db.read() as conn:
        user = accounts.get(conn, call.user.id)
    if user is None:
        raise problems.user_gone()
    return user


handle = fn.build()
