"""Social login: the OAuth 2.0 authorization-code flow with Google, Kakao and Naver.

``begin`` stores the flow in Redis for ten minutes under its ``state``: the
provider, the nonce, the PKCE verifier, the return origin, the redirect URI
and the SHA-256 of a per-flow secret that only the client that started the
login holds (a browser keeps it in a cookie, a native client in memory).
``take_state`` consumes the flow exactly once (GETDEL) and ``check_flow``
refuses a callback that does not present the secret: whoever started a login
cannot hand its callback URL to someone else (login CSRF). ``exchange`` and
``profile`` call the provider with httpx, only at hosts on the configured
allow-list; ``exchange`` checks the ID token's nonce where the provider
returns one. Naver supports no PKCE and no OpenID Connect, so its flow relies
on state and the flow secret, as the original relied on state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from eco2 import kv
from eco2.problems import Problem, unauthorized

if TYPE_CHECKING:
    from eco2.auth.settings import AuthSettings

STATE_TTL = 600
HTTP_TIMEOUT = 5.0
# Seconds of clock difference tolerated on an ID token's exp and iat.
ID_TOKEN_LEEWAY = 60


@dataclass(frozen=True)
class Provider:
    name: str
    authorize_url: str
    token_url: str
    userinfo_url: str
    scope: str
    pkce: bool
    # The ``iss`` of the provider's OpenID Connect ID tokens; empty: it has none.
    issuers: tuple[str, ...] = ()
    # Whether every token response must carry an ID token (its scope asks for one).
    id_token_required: bool = False


DEFAULTS = {
    "google": Provider(
        "google",
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
        "https://openidconnect.googleapis.com/v1/userinfo",
        "openid email profile",
        True,
        ("https://accounts.google.com", "accounts.google.com"),
        True,
    ),
    # Kakao issues an ID token when OpenID Connect is on in the app's console.
    "kakao": Provider(
        "kakao",
        "https://kauth.kakao.com/oauth/authorize",
        "https://kauth.kakao.com/oauth/token",
        "https://kapi.kakao.com/v2/user/me",
        "",
        True,
        ("https://kauth.kakao.com",),
    ),
    "naver": Provider(
        "naver",
        "https://nid.naver.com/oauth2.0/authorize",
        "https://nid.naver.com/oauth2.0/token",
        "https://openapi.naver.com/v1/nid/me",
        "",
        False,
    ),
}


@dataclass(frozen=True)
class Profile:
    """What a provider tells us about the user, in one shape for all three.

    ``name`` is the provider's name for the person (it becomes the username);
    ``nickname`` the one eco2 starts the profile with.
    """

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    nickname: str | None
    picture: str | None
    name: str | None = None


@dataclass(frozen=True)
class Start:
    """A login just begun: where to send the user, and the flow's secret."""

    provider: str
    state: str
    authorization_url: str
    expires_at: datetime
    flow_secret: str


def provider(settings: "AuthSettings", name: str) -> Provider:
    """The configured provider ``name``; 404 when unknown or not configured."""
    base = DEFAULTS.get(name)
    client_id, _ = settings.client(name) if base else (None, None)
    if base is None or not client_id:
        raise Problem(404, f"Sign-in with {name!r} is not available.", slug="unknown-provider")
    override = settings.oauth_endpoints.get(name, {})
    return Provider(
        name,
        override.get("authorize_url", base.authorize_url),
        override.get("token_url", base.token_url),
        override.get("userinfo_url", base.userinfo_url),
        base.scope,
        base.pkce,
        (override["issuer"],) if "issuer" in override else base.issuers,
        base.id_token_required,
    )


def redirect_uri(settings: "AuthSettings", name: str, requested: str | None = None) -> str:
    """The callback URL the provider sends the user back to.

    A client may name it (the original app sends its API base URL's
    callback), but only as the callback under ``ECO2_AUTH_PUBLIC_URL`` or one
    of ``ECO2_AUTH_OTHER_PUBLIC_URLS``, exactly: no open redirect.
    """
    bases = [settings.public_url, *settings.other_public_urls]
    allowed = [f"{base.rstrip('/')}/api/v1/auth/{name}/callback" for base in bases]
    if requested is None:
        return allowed[0]
    if requested not in allowed:
        raise Problem(401, "That redirect URI is not allowed.", slug="redirect-not-allowed")
    return requested


def allowed_return(settings: "AuthSettings", return_to: str | None) -> str:
    """The origin to send the browser back to; only origins on the allow-list.

    An absent value means the first configured origin. Anything else that is
    not exactly an allowed origin is refused: no open redirect.
    """
    if not settings.app_origins:
        raise unauthorized("No app origin is configured to return to.")
    if not return_to:
        return settings.app_origins[0]
    parts = urlsplit(return_to)
    origin = f"{parts.scheme}://{parts.netloc}"
    if parts.scheme not in ("http", "https") or origin not in settings.app_origins:
        raise Problem(401, "That return address is not allowed.", slug="redirect-not-allowed")
    return origin


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _flow_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def begin(settings: "AuthSettings", redis: Any, name: str, *, return_to: str | None = None,
          redirect: str | None = None) -> Start:
    """Start a login: store the flow, return the provider's URL and the flow's secret."""
    prov = provider(settings, name)
    origin = allowed_return(settings, return_to)
    callback = redirect_uri(settings, name, redirect)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(16)
    flow_secret = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64) if prov.pkce else None
    expires_at = int(time.time()) + STATE_TTL
    record = {"provider": name, "nonce": nonce, "verifier": verifier, "origin": origin,
              "redirect_uri": callback, "flow": _flow_digest(flow_secret)}
    redis.set(kv.oauth_state(state), json.dumps(record), ex=STATE_TTL)
    client_id, _ = settings.client(name)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": callback,
        "state": state,
        "nonce": nonce,
    }
    if prov.scope:
        params["scope"] = prov.scope
    if verifier:
        params.update(code_challenge=_challenge(verifier), code_challenge_method="S256")
    return Start(name, state, f"{prov.authorize_url}?{urlencode(params)}",
                 datetime.fromtimestamp(expires_at, timezone.utc), flow_secret)


def take_state(redis: Any, state: str, name: str) -> dict[str, Any]:
    """Consume a pending login's state, once. Unknown, used, expired or
    another provider's state is a 401."""
    raw = redis.getdel(kv.oauth_state(state))
    if raw is None:
        raise Problem(401, "The sign-in state is unknown, used or expired.", slug="invalid-state")
    record = json.loads(raw)
    if record.get("provider") != name:
        raise Problem(401, "The sign-in state belongs to another provider.", slug="invalid-state")
    return record


def check_flow(record: dict[str, Any], *presented: str | None) -> None:
    """401 unless one of ``presented`` (the flow cookie, the flow header) is the
    secret of the flow that ``record`` describes."""
    expected = record.get("flow", "")
    for secret in presented:
        if secret and expected and hmac.compare_digest(_flow_digest(secret), expected):
            return
    raise Problem(401, "This sign-in was not started here: start it again.", slug="flow-mismatch")


def _check_host(settings: "AuthSettings", url: str) -> None:
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.hostname not in settings.oauth_allowed_hosts or (parts.scheme != "https" and not loopback):
        raise Problem(502, "The sign-in provider's address is not allowed.", slug="provider-not-allowed")


def _call(settings: "AuthSettings", method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    import httpx

    _check_host(settings, url)
    try:
        response = httpx.request(method, url, timeout=HTTP_TIMEOUT, follow_redirects=False, **kwargs)
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError):
        raise Problem(502, "The sign-in provider did not answer as expected.", slug="provider-error") from None
    if not isinstance(data, dict):
        raise Problem(502, "The sign-in provider did not answer as expected.", slug="provider-error")
    return data


def exchange(settings: "AuthSettings", name: str, code: str, record: dict[str, Any]) -> str:
    """Trade the authorization code for the provider's access token, after
    checking the ID token that came with it (if the provider sends one)."""
    prov = provider(settings, name)
    client_id, client_secret = settings.client(name)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": record.get("redirect_uri") or redirect_uri(settings, name),
        "client_id": client_id,
    }
    if client_secret:
        form["client_secret"] = client_secret
    if record.get("verifier"):
        form["code_verifier"] = record["verifier"]
    data = _call(settings, "POST", prov.token_url, data=form, headers={"Accept": "application/json"})
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise Problem(502, "The sign-in provider returned no token.", slug="provider-error")
    id_token = data.get("id_token")
    if prov.issuers and (id_token is not None or prov.id_token_required):
        check_id_token(prov, str(client_id), id_token, record.get("nonce"))
    return token


def check_id_token(prov: Provider, client_id: str, id_token: Any, nonce: str | None) -> None:
    """An OpenID Connect ID token's issuer, audience, expiry and nonce; 401 if wrong.

    Its signature is not checked: it came straight from the provider's token
    endpoint over TLS, which OpenID Connect Core 1.0 (section 3.1.3.7) accepts
    in place of the signature for the authorization-code flow. The nonce is
    what binds it to this login: a code obtained for another login carries
    that login's nonce.
    """
    import jwt

    if not isinstance(id_token, str) or not nonce:
        raise Problem(401, "The sign-in provider sent no usable ID token.", slug="invalid-id-token")
    try:
        claims = jwt.decode(
            id_token,
            options={"verify_signature": False, "verify_exp": True, "verify_iat": True,
                     "verify_aud": True, "verify_iss": True, "require": ["iss", "aud", "exp", "iat"]},
            audience=client_id,
            issuer=list(prov.issuers),
            leeway=ID_TOKEN_LEEWAY,
        )
    except jwt.PyJWTError:
        raise Problem(401, "The sign-in provider's ID token is not valid.", slug="invalid-id-token") from None
    if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise Problem(401, "The ID token belongs to another sign-in.", slug="invalid-id-token")


def profile(settings: "AuthSettings", name: str, access_token: str) -> Profile:
    prov = provider(settings, name)
    data = _call(settings, "GET", prov.userinfo_url, headers={"Authorization": f"Bearer {access_token}"})
    try:
        return PARSERS[name](data)
    except (KeyError, TypeError, ValueError):
        raise Problem(502, "The sign-in provider's profile was not understood.", slug="provider-error") from None


def _text(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value not in (None, "") else None


def _google(data: dict[str, Any]) -> Profile:
    name = _text(data.get("name"), 64)
    return Profile(
        "google", str(data["sub"]), _text(data.get("email"), 320), data.get("email_verified") is True,
        name, _text(data.get("picture"), 1024), name,
    )


def _kakao(data: dict[str, Any]) -> Profile:
    account = data.get("kakao_account") or {}
    prof = account.get("profile") or {}
    verified = account.get("is_email_verified") is True and account.get("is_email_valid") is True
    nickname = _text(prof.get("nickname"), 64)
    return Profile(
        "kakao", str(data["id"]), _text(account.get("email"), 320), verified,
        nickname, _text(prof.get("profile_image_url"), 1024), nickname,
    )


def _naver(data: dict[str, Any]) -> Profile:
    if data.get("resultcode") != "00":
        raise ValueError("naver profile call failed")
    body = data["response"]
    # Naver does not say whether the address was verified, so it never links
    # accounts by email.
    return Profile(
        "naver", str(body["id"]), _text(body.get("email"), 320), False,
        _text(body.get("nickname"), 64), _text(body.get("profile_image"), 1024), _text(body.get("name"), 64),
    )


PARSERS = {"google": _google, "kakao": _kakao, "naver": _naver}
