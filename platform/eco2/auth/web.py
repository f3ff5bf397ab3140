"""The auth function's HTTP side: cookies, token replies, the signer."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from eco2.problems import unavailable
from eco2.tokens import Signer

if TYPE_CHECKING:
    from eco2.auth.sessions import TokenPair
    from eco2.auth.settings import AuthSettings

ACCESS_COOKIE = "s_access"
REFRESH_COOKIE = "s_refresh"
# The refresh cookie goes only to the auth routes; the access cookie everywhere.
REFRESH_COOKIE_PATH = "/api/v1/auth"

_signers: dict[str, Signer] = {}
_lock = threading.Lock()


def signer(settings: "AuthSettings") -> Signer:
    """The signer for the configured private key, loaded once."""
    path = settings.signing_key_file
    if not path:
        raise unavailable("No signing key is configured (ECO2_JWT_SIGNING_KEY_FILE).")
    found = _signers.get(path)
    if found is None:
        with _lock:
            found = _signers.setdefault(path, Signer(settings, Path(path).read_bytes()))
    return found


def set_cookies(response: Response, pair: "TokenPair", settings: "AuthSettings") -> None:
    common = {
        "domain": settings.cookie_domain,
        "secure": settings.env != "dev",
        "httponly": True,
        "samesite": "Lax",
    }
    response.set_cookie(ACCESS_COOKIE, pair.access_token, max_age=settings.access_ttl_seconds, path="/", **common)
    response.set_cookie(REFRESH_COOKIE, pair.refresh_token, max_age=pair.refresh_ttl, path=REFRESH_COOKIE_PATH, **common)


def clear_cookies(response: Response, settings: "AuthSettings") -> None:
    response.delete_cookie(ACCESS_COOKIE, path="/", domain=settings.cookie_domain)
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, domain=settings.cookie_domain)


def wants_json(accept: str) -> bool:
    return "application/json" in accept.lower()
