"""The released app's auth calls against eco2, through the dev gateway, with
cookies only (the rows of docs/api-v1.md for /api/v1/auth).

The app (eco2-team/frontend, badf466): Login.tsx starts a login and reads
``data.data.authorization_url``; the provider sends the browser to the
callback, which must redirect to ``{origin}/#/home`` with both cookies (or to
``{origin}/login?error=…``); axiosInstance.ts refreshes with the s_refresh
cookie on a 401, also from several requests at once; LogoutDialog.tsx leaves
the page only when ``data.success`` is true.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from ..auth.fake_oauth import FakeProvider
from .app import App, SignedOut

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
PROVIDERS = ["google", "kakao", "naver"]


def start(app: App, provider: str, **params: str):
    return app.call("GET", f"/api/v1/auth/{provider}", headers={"X-Frontend-Origin": app.origin},
                    params={"redirect_uri": f"{app.base}/api/v1/auth/{provider}/callback", **params})


@pytest.mark.parametrize("provider", PROVIDERS)
def test_login_start_in_the_originals_envelope(app: App, fake_provider: FakeProvider, provider: str) -> None:
    reply = start(app, provider)
    assert reply.status_code == 200
    body = reply.json()
    assert body["success"] is True
    data = body["data"]
    assert data["provider"] == provider and data["state"]
    url = urlsplit(data["authorization_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fake_provider.base}/{provider}/authorize"
    query = parse_qs(url.query)
    assert query["redirect_uri"] == [f"{app.base}/api/v1/auth/{provider}/callback"]
    assert query["state"] == [data["state"]]
    expires = datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00"))  # ISO 8601
    assert expires > datetime.now(timezone.utc)
    assert app.cookie("s_flow")  # the login is bound to this browser


def test_login_takes_the_originals_other_parameters(app: App) -> None:
    reply = app.call("GET", "/api/v1/auth/kakao", params={
        "frontend_origin": app.origin, "scope": "profile_nickname", "device_id": "ios-1234",
        "redirect_uri": f"{app.base}/api/v1/auth/kakao/callback"})
    assert reply.status_code == 200 and reply.json()["success"] is True


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        ({"X-Frontend-Origin": "https://evil.example"}, {}),
        ({}, {"frontend_origin": "https://evil.example"}),
        ({}, {"redirect_uri": "https://evil.example/api/v1/auth/google/callback"}),
        ({}, {"redirect_uri": "http://localhost:1/api/v1/auth/google/callback"}),
    ],
    ids=["header origin", "frontend_origin", "redirect_uri host", "redirect_uri port"],
)
def test_no_open_redirect(app: App, headers: dict[str, str], params: dict[str, str]) -> None:
    reply = app.fetch("GET", "/api/v1/auth/google", headers=headers, params=params)
    assert reply.status_code == 401
    assert reply.headers["Content-Type"] == "application/problem+json"
    body = reply.json()
    assert body["success"] is False and body["error"] == {"code": "REDIRECT_NOT_ALLOWED",
                                                         "message": body["detail"]}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_callback_redirects_home_with_both_cookies(app: App, fake_provider: FakeProvider, provider: str) -> None:
    fake_provider.next_user[provider] = {"id": "31337", "name": "나무"}
    back = app.login(provider)
    assert back.status_code == 302 and back.headers["Location"] == f"{app.origin}/#/home"
    set_cookies = {c.split("=", 1)[0]: c for c in back.headers.get_list("Set-Cookie")}
    for name in ("s_access", "s_refresh"):
        assert "HttpOnly" in set_cookies[name] and "SameSite=Lax" in set_cookies[name]
    me = app.call("GET", "/api/v1/user/me")
    assert me.status_code == 200 and me.json()["provider"] == provider


def test_callback_failures_go_back_to_login(app: App, fake_provider: FakeProvider) -> None:
    data = start(app, "google").json()["data"]
    denied = app.navigate(f"{app.base}/api/v1/auth/google/callback?state={data['state']}&error=access_denied")
    assert denied.status_code == 302 and denied.headers["Location"] == f"{app.origin}/login?error=provider-denied"
    forged = app.navigate(f"{app.base}/api/v1/auth/google/callback?state=forged&code=x")
    assert forged.status_code == 302 and forged.headers["Location"] == f"{app.origin}/login?error=invalid-state"
    assert app.cookie("s_access") is None


def test_refresh_with_the_cookie_alone(signed_in: App) -> None:
    app = signed_in
    before = app.cookie("s_refresh"), app.cookie("s_access")
    reply = app.refresh()
    assert reply.status_code // 100 == 2, reply.text
    after = app.cookie("s_refresh"), app.cookie("s_access")
    assert after[0] and after[1] and after[0] != before[0] and after[1] != before[1]
    assert app.call("GET", "/api/v1/user/me").status_code == 200


def test_an_expired_access_cookie_is_refreshed_and_retried(signed_in: App) -> None:
    app = signed_in
    app.drop_cookie("s_access")  # its Max-Age passed
    me = app.call("GET", "/api/v1/user/me")
    assert me.status_code == 200 and len(app.refreshes) == 1


def test_parallel_requests_after_expiry_stay_signed_in(signed_in: App) -> None:
    """The home page's two requests get a 401 together and both refresh with the
    same cookie: both succeed, and the session goes on (it was revoked before)."""
    app = signed_in
    app.drop_cookie("s_access")
    both = threading.Barrier(2)
    app.before_refresh = lambda: both.wait(timeout=30)  # both refreshes carry the same s_refresh
    with ThreadPoolExecutor(max_workers=2) as pool:
        replies = list(pool.map(lambda path: app.call("GET", path),
                                ["/api/v1/user/me", "/api/v1/user/me/characters"]))
    app.before_refresh = lambda: None
    assert [r.status_code for r in replies] == [200, 200], [r.text for r in replies]
    assert [r.status_code for r in app.refreshes] == [200, 200]
    sent = [r.request.headers["Cookie"] for r in app.refreshes]
    assert sent[0] == sent[1]  # the same refresh cookie, twice
    # Still signed in, and the next expiry refreshes again with the cookie the browser kept.
    app.drop_cookie("s_access")
    assert app.call("GET", "/api/v1/user/me").status_code == 200
    assert app.refreshes[-1].status_code == 200


def test_logout_answers_success_and_signs_out(signed_in: App) -> None:
    app = signed_in
    reply = app.call("POST", "/api/v1/auth/logout")
    assert reply.status_code == 200
    body = reply.json()
    assert body["success"] is True and isinstance(body["data"]["message"], str)  # LogoutDialog reads data.success
    assert app.cookie("s_access") is None and app.cookie("s_refresh") is None
    with pytest.raises(SignedOut):
        app.call("GET", "/api/v1/user/me")


def test_errors_are_problems_in_the_originals_shape_too(app: App) -> None:
    reply = app.fetch("GET", "/api/v1/user/me")  # no cookie
    assert reply.status_code == 401 and reply.headers["Content-Type"] == "application/problem+json"
    body = reply.json()
    assert body["status"] == 401 and body["type"].startswith("urn:eco2:problem:")
    assert body["success"] is False and body["error"]["code"] == "UNAUTHORIZED" and body["error"]["message"]


@pytest.mark.parametrize("path", ["/health", "/ready", "/healthz", "/readyz"])
def test_probes(stack, path: str) -> None:  # noqa: ANN001
    """The original's manifests and the ALB probe /health and /ready (routed by
    host, as Kourier does). Every function answers them: tests/conformance."""
    for name in ("auth", "my", "character", "location"):
        reply = stack.get(path, headers={"Host": f"{name}.localhost"})
        assert reply.status == 200, (name, reply.body)
        assert reply.json()["function"] == name
