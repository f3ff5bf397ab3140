"""Social login: the OAuth 2.0 authorization-code flow with Google, Kakao and Naver.

``begin`` stores state, nonce and the PKCE verifier in Redis for ten minutes;
``take_state`` consumes it exactly once (GETDEL); ``exchange`` and ``profile``
call the provider with httpx, only at hosts on the configured allow-list.
Naver supports no PKCE, so its flow relies on state alone, as the original did.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from eco2 import kv
from eco2.problems import Problem, unauthorized

if TYPE_CHECKING:
    from eco2.auth.settings import AuthSettings

STATE_TTL = 600
HTTP_TIMEOUT = 5.0


@dataclass(frozen=True)
class Provider:
    name: str
    authorize_url: str
    token_url: str
    userinfo_url: str
    scope: str
    pkce: bool


DEFAULTS = {
    "google": Provider(
        "google",
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
        "https://openidconnect.googleapis.com/v1/userinfo",
        "openid email profile",
        True,
    ),
    "kakao": Provider(
        "kakao",
        "https://kauth.kakao.com/oauth/authorize",
        "https://kauth.kakao.com/oauth/token",
        "https://kapi.kakao.com/v2/user/me",
        "",
        True,
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
    """What a provider tells us about the user, in one shape for all three."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    nickname: str | None
    picture: str | None


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
    )


def redirect_uri(settings: "AuthSettings", name: str) -> str:
    return f"{settings.public_url.rstrip('/')}/api/v1/auth/{name}/callback"


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


def begin(settings: "AuthSettings", redis: Any, name: str, return_to: str | None) -> dict[str, Any]:
    """Start a login: store the flow's secrets, return the provider's URL."""
    prov = provider(settings, name)
    origin = allowed_return(settings, return_to)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(64) if prov.pkce else None
    expires_at = int(time.time()) + STATE_TTL
    record = {"provider": name, "nonce": nonce, "verifier": verifier, "origin": origin}
    redis.set(kv.oauth_state(state), json.dumps(record), ex=STATE_TTL)
    client_id, _ = settings.client(name)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri(settings, name),
        "state": state,
        "nonce": nonce,
    }
    if prov.scope:
        params["scope"] = prov.scope
    if verifier:
        params.update(code_challenge=_challenge(verifier), code_challenge_method="S256")
    return {
        "provider": name,
        "state": state,
        "authorization_url": f"{prov.authorize_url}?{urlencode(params)}",
        "expires_at": expires_at,
    }


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
    """Trade the authorization code for the provider's access token."""
    prov = provider(settings, name)
    client_id, client_secret = settings.client(name)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(settings, name),
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
    return token


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
    return Profile(
        "google", str(data["sub"]), _text(data.get("email"), 320), data.get("email_verified") is True,
        _text(data.get("name"), 64), _text(data.get("picture"), 1024),
    )


def _kakao(data: dict[str, Any]) -> Profile:
    account = data.get("kakao_account") or {}
    prof = account.get("profile") or {}
    verified = account.get("is_email_verified") is True and account.get("is_email_valid") is True
    return Profile(
        "kakao", str(data["id"]), _text(account.get("email"), 320), verified,
        _text(prof.get("nickname"), 64), _text(prof.get("profile_image_url"), 1024),
    )


def _naver(data: dict[str, Any]) -> Profile:
    if data.get("resultcode") != "00":
        raise ValueError("naver profile call failed")
    body = data["response"]
    # Naver does not say whether the address was verified, so it never links
    # accounts by email.
    return Profile(
        "naver", str(body["id"]), _text(body.get("email"), 320), False,
        _text(body.get("nickname"), 64), _text(body.get("profile_image"), 1024),
    )


PARSERS = {"google": _google, "kakao": _kakao, "naver": _naver}
