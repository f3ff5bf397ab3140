"""The released Eco² app's HTTP client, as the contract tests drive eco2 with it.

It behaves as the app's one axios instance does in a browser
(eco2-team/frontend, commit badf466, ``src/api/axiosInstance.ts``): one base
URL, credentials on every call, cookies only (never a bearer header), and on
a 401 one ``POST /api/v1/auth/refresh`` and a retry, or, if the refresh
fails, ``POST /api/v1/auth/logout``. Being cross-origin, every call is
checked as a browser checks it: a preflight first when the call is not a
simple request, and a response a script may read only with
``Access-Control-Allow-Origin`` set to the app's origin and
``Access-Control-Allow-Credentials: true``.

Navigations (the provider's redirect to the callback, the callback's
redirect to the app) carry cookies but no Origin, as a browser's do.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

# What a browser sends without a preflight (the Fetch standard's CORS-safelisted
# request headers and simple methods).
SIMPLE_METHODS = {"GET", "HEAD", "POST"}
SAFELISTED_HEADERS = {"accept", "accept-language", "content-language", "content-type"}
SIMPLE_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}


class SignedOut(Exception):
    """The app gave up: its refresh failed, it logged out and went to /login."""


class CorsRefused(AssertionError):
    """A browser would not have let the app read this response."""


class App:
    """The app at ``origin`` talking to the API at ``base``."""

    def __init__(self, base: str, origin: str) -> None:
        self.base, self.origin = base, origin
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=60,
                                 event_hooks={"request": [self._never_bearer]})
        self.preflights: list[httpx.Response] = []
        self.refreshes: list[httpx.Response] = []
        # Called between reading the refresh cookie and sending the refresh: a
        # test holds parallel refreshes there so that they race as the app's do.
        self.before_refresh: Callable[[], None] = lambda: None
        self._jar = threading.Lock()

    @staticmethod
    def _never_bearer(request: httpx.Request) -> None:
        assert "authorization" not in request.headers, "the app never sends a bearer token"

    # -- cookies ------------------------------------------------------------------------

    def cookie(self, name: str) -> str | None:
        with self._jar:
            return next((c.value for c in self.http.cookies.jar if c.name == name), None)

    def drop_cookie(self, name: str) -> None:
        """What the browser does when a cookie's Max-Age has passed."""
        with self._jar:
            for c in list(self.http.cookies.jar):
                if c.name == name:
                    self.http.cookies.jar.clear(c.domain, c.path, c.name)

    # -- the browser's part ---------------------------------------------------------------

    def _preflight(self, method: str, path: str, headers: dict[str, str]) -> None:
        custom = sorted(h.lower() for h in headers if h.lower() not in SAFELISTED_HEADERS)
        content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
        if method in SIMPLE_METHODS and not custom and (not content_type or content_type in SIMPLE_CONTENT_TYPES):
            return
        requested = sorted(set(custom) | ({"content-type"} if content_type else set()))
        request_headers = {"Origin": self.origin, "Access-Control-Request-Method": method}
        if requested:
            request_headers["Access-Control-Request-Headers"] = ",".join(requested)
        reply = self.http.request("OPTIONS", path, headers=request_headers)
        self.preflights.append(reply)
        if reply.status_code // 100 != 2:
            raise CorsRefused(f"preflight {method} {path}: {reply.status_code}")
        self._readable(reply)
        allowed_methods = {m.strip().upper() for m in reply.headers.get("Access-Control-Allow-Methods", "").split(",")}
        allowed_headers = {h.strip().lower() for h in reply.headers.get("Access-Control-Allow-Headers", "").split(",")}
        if method not in allowed_methods or not set(requested) <= allowed_headers:
            raise CorsRefused(f"preflight {method} {path}: {dict(reply.headers)}")

    def _readable(self, reply: httpx.Response) -> None:
        if reply.headers.get("Access-Control-Allow-Origin") != self.origin:
            raise CorsRefused(f"{reply.request.method} {reply.request.url}: no Access-Control-Allow-Origin")
        if reply.headers.get("Access-Control-Allow-Credentials") != "true":
            raise CorsRefused(f"{reply.request.method} {reply.request.url}: credentials not allowed")

    def fetch(self, method: str, path: str, *, json_body: Any = None, headers: dict[str, str] | None = None,
              params: dict[str, Any] | None = None, cookies: dict[str, str] | None = None) -> httpx.Response:
        """One cross-origin, credentialed XHR as the browser makes it."""
        headers = {"Accept": "application/json, text/plain, */*", **(headers or {})}
        content = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(json_body).encode()
        self._preflight(method, path, headers)
        request = self.http.build_request(method, path, params=params, content=content,
                                          headers={**headers, "Origin": self.origin})
        if cookies is not None:  # the cookies as they were when the request was sent
            request.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        reply = self.http.send(request)
        self._readable(reply)
        return reply

    def navigate(self, url: str) -> httpx.Response:
        """A top-level navigation (cookies, no Origin), not followed."""
        if urlsplit(url).netloc == urlsplit(self.base).netloc:
            return self.http.get(url)
        return httpx.get(url, follow_redirects=False, timeout=30)

    # -- the app's part (axiosInstance.ts) ------------------------------------------------

    def refresh(self) -> httpx.Response:
        """refreshApi.post('/api/v1/auth/refresh'): the s_refresh cookie and nothing else."""
        with self._jar:
            cookies = {c.name: c.value for c in self.http.cookies.jar}
        self.before_refresh()
        reply = self.fetch("POST", "/api/v1/auth/refresh", cookies=cookies)
        self.refreshes.append(reply)
        return reply

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """api.<method>(path): on a 401, refresh and retry once; if the refresh
        fails, log out and give up as the app does."""
        reply = self.fetch(method, path, **kw)
        if reply.status_code != 401:
            return reply
        refreshed = self.refresh()
        if refreshed.status_code // 100 != 2:
            self.fetch("POST", "/api/v1/auth/logout")
            raise SignedOut(f"{method} {path}: refresh answered {refreshed.status_code}")
        return self.fetch(method, path, **kw)

    def login(self, provider: str) -> httpx.Response:
        """Login.tsx's handleSocialLogin, then the browser through the provider
        and back: returns the callback's answer (a redirect to the app)."""
        started = self.call("GET", f"/api/v1/auth/{provider}",
                            headers={"X-Frontend-Origin": self.origin},
                            params={"redirect_uri": f"{self.base}/api/v1/auth/{provider}/callback"})
        assert started.status_code == 200, started.text
        authorization_url = started.json()["data"]["authorization_url"]  # data?.data?.authorization_url
        at_provider = self.navigate(authorization_url)
        assert at_provider.status_code == 302, at_provider.text
        return self.navigate(at_provider.headers["Location"])
