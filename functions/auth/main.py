"""auth: sign-in with Google, Kakao and Naver; tokens, refresh and logout; the JWKS."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field
from werkzeug.wrappers import Response

from eco2 import Call, Function, Problem, problems
from eco2.auth.settings import AuthSettings
from eco2.my.profiles import Nickname
from eco2.tokens import ACCESS_COOKIE

fn = Function("auth", "/api/v1/auth", settings=AuthSettings)

REFRESH_COOKIE = "s_refresh"
# The refresh and flow cookies go only to the auth routes; the access cookie everywhere.
AUTH_COOKIE_PATH = "/api/v1/auth"
# A login's per-flow secret: a browser holds it in this cookie (set when the
# login starts, sent back with the provider's redirect to the callback), a
# native client sends it back in this header. See eco2.auth.oauth.
FLOW_COOKIE = "s_flow"
FLOW_HEADER = "X-Eco2-Flow"
# The app says where it runs with this header (or frontend_origin) when it
# starts a login, as it did with the original backend.
FRONTEND_ORIGIN_HEADER = "X-Frontend-Origin"

T = TypeVar("T")


class Success(BaseModel, Generic[T]):
    """The original backend's envelope, which the released app reads on the
    routes that had it: ``{success: true, data: {...}}``."""

    success: Literal[True] = True
    data: T


class LoginData(BaseModel):
    provider: str
    state: str
    authorization_url: str
    expires_at: datetime = Field(description="ISO 8601, when the login's state expires")
    flow_secret: str = Field(description="A native client sends it back in the X-Eco2-Flow header of the "
                                         "callback; a browser holds it in the s_flow cookie")


class LoginQuery(BaseModel):
    return_to: str | None = Field(None, max_length=2048, description="An allowed app origin to return to.")
    frontend_origin: str | None = Field(None, max_length=2048,
                                        description="The original's name for return_to (as is X-Frontend-Origin).")
    redirect_uri: str | None = Field(None, max_length=2048,
                                     description="This function's callback URL, under an allowed public URL.")
    scope: str | None = Field(None, max_length=512, description="Accepted; eco2 asks each provider for its own scopes.")
    device_id: str | None = Field(None, max_length=120, description="Accepted for the original's clients; not used.")


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


class LogoutData(BaseModel):
    message: str


class User(BaseModel):
    id: UUID
    username: str | None
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


def _cookie_options(settings: AuthSettings) -> dict[str, Any]:
    return {"domain": settings.cookie_domain, "secure": settings.env != "dev", "httponly": True, "samesite": "Lax"}


def _set_cookies(response: Response, pair: Any, settings: AuthSettings) -> None:
    common = _cookie_options(settings)
    response.set_cookie(ACCESS_COOKIE, pair.access_token, max_age=settings.access_ttl_seconds, path="/", **common)
    response.set_cookie(REFRESH_COOKIE, pair.refresh_token, max_age=pair.refresh_ttl, path=AUTH_COOKIE_PATH,
                        **common)


def _json(model: BaseModel) -> Response:
    """A JSON answer that no cache keeps (it carries tokens or a flow's secret)."""
    response = Response(model.model_dump_json(), content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _reply(call: Call, pair: Any) -> Response:
    """Tokens as JSON, and as cookies for browsers."""
    response = _json(Tokens(
        access_token=pair.access_token,
        expires_in=call.settings.access_ttl_seconds,
        refresh_token=pair.refresh_token,
        refresh_expires_in=pair.refresh_ttl,
        user_id=pair.user_id,
    ))
    _set_cookies(response, pair, call.settings)
    return response


def _wants_json(call: Call) -> bool:
    return "application/json" in call.request.headers.get("Accept", "").lower()


@fn.get("/.well-known/jwks.json", response=Jwks, cache="public, max-age=300")
def jwks(call: Call) -> dict[str, Any]:
    """The public keys that verify access tokens (several during a rotation)."""
    from eco2.tokens import load_jwks

    return {"keys": [{k: v for k, v in key.items() if k != "d"} for key in load_jwks(call.settings)["keys"]]}


@fn.get("/{provider}", query=LoginQuery, response=Success[LoginData])
def login(call: Call) -> Response:
    """Start a social login: the provider's authorization URL, and the flow's secret."""
    from eco2.auth import oauth

    _limit(call, "login")
    q: LoginQuery = call.query
    started = oauth.begin(
        call.settings, call.redis, call.params["provider"],
        return_to=q.return_to or q.frontend_origin or call.request.headers.get(FRONTEND_ORIGIN_HEADER),
        redirect=q.redirect_uri,
    )
    response = _json(Success[LoginData](data=LoginData.model_validate(started, from_attributes=True)))
    response.set_cookie(FLOW_COOKIE, started.flow_secret, max_age=oauth.STATE_TTL, path=AUTH_COOKIE_PATH,
                        **_cookie_options(call.settings))
    return response


@fn.get("/{provider}/callback", query=CallbackQuery, response=Tokens)
def callback(call: Call) -> Response:
    """The provider sends the browser back here with a code: sign the user in.

    The flow must be this client's: the s_flow cookie (a browser) or the
    X-Eco2-Flow header (a native client). Browsers go back to the app, to
    ``/#/home`` or ``/login?error=<slug>``; ``Accept: application/json`` gets
    the tokens, or the problem, as JSON.
    """
    from eco2.auth import oauth, sessions

    _limit(call, "callback")
    name = call.params["provider"]
    oauth.provider(call.settings, name)  # 404 for an unknown provider before touching state
    record: dict[str, Any] | None = None
    try:
        record = oauth.take_state(call.redis, call.query.state, name)
        oauth.check_flow(record, call.request.cookies.get(FLOW_COOKIE), call.request.headers.get(FLOW_HEADER))
        if call.query.error or not call.query.code:
            raise Problem(401, "The provider did not authorize the sign-in.", slug="provider-denied")
        token = oauth.exchange(call.settings, name, call.query.code, record)
        pair = sessions.sign_in(call.db, call.settings, oauth.profile(call.settings, name, token))
    except Problem as problem:
        if _wants_json(call):
            raise
        # The origin of a state we issued is trusted; without one, the default.
        origin = record["origin"] if record else oauth.allowed_return(call.settings, None)
        response = Response(status=302, headers={"Location": f"{origin}/login?error={problem.slug}"})
    else:
        if _wants_json(call):
            response = _reply(call, pair)
        else:
            response = Response(status=302, headers={"Location": f"{record['origin']}/#/home"})
            _set_cookies(response, pair, call.settings)
    response.delete_cookie(FLOW_COOKIE, path=AUTH_COOKIE_PATH, domain=call.settings.cookie_domain)
    return response


def dev_login(call: Call) -> Response:
    """Local development only: tokens for a user by nickname."""
    from eco2.auth import sessions
    from eco2.auth.oauth import Profile

    _limit(call, "dev-login")
    nickname = call.body.nickname
    profile = Profile(provider="dev", subject=nickname.lower(), email=None, email_verified=False,
                      nickname=nickname, picture=None, name=nickname)
    return _reply(call, sessions.sign_in(call.db, call.settings, profile))


# Outside ECO2_ENV=dev the route does not exist at all: no validation, no
# OpenAPI entry, the 404 of any unknown path.
if fn.settings.env == "dev":
    fn.post("/dev/login", body=DevLogin, response=Tokens)(dev_login)


@fn.post("/refresh", body=RefreshRequest, optional_body=True, response=Tokens)
def refresh(call: Call) -> Response:
    """Rotate the refresh token (cookie s_refresh or the body) into a new pair."""
    from eco2.auth import sessions

    _limit(call, "refresh")
    presented = (call.body.refresh_token if call.body else None) or call.request.cookies.get(REFRESH_COOKIE)
    if not presented:
        raise Problem(401, "A refresh token is required.", slug="refresh-refused")
    return _reply(call, sessions.renew(call.db, call.redis, call.settings, presented))


@fn.post("/logout", response=Success[LogoutData])
def logout(call: Call) -> Response:
    """End the session: deny the access token, revoke its refresh family."""
    from eco2 import tokens
    from eco2.auth import sessions

    sessions.log_out(call.db, call.redis, call.settings, tokens.bearer_token(call),
                     call.request.cookies.get(REFRESH_COOKIE))
    response = _json(Success[LogoutData](data=LogoutData(message="Signed out.")))
    response.delete_cookie(ACCESS_COOKIE, path="/", domain=call.settings.cookie_domain)
    response.delete_cookie(REFRESH_COOKIE, path=AUTH_COOKIE_PATH, domain=call.settings.cookie_domain)
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
