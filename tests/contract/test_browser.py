"""The browser-shaped run: CORS and cookies as a browser applies them, with the
app's origin calling the API through the dev gateway.

First without a browser: the preflight of the login call with the app's exact
headers, then the credentialed call. Then in a real headless Chromium (Debian's,
driven by Playwright; skipped with a reason where it cannot run): a page at the
app's origin signs in through the fake provider exactly as the released app
does (fetch with credentials, X-Frontend-Origin, a top-level navigation to the
provider and back), reads the profile with the cookies alone, survives the
home page's parallel refresh, and logs out.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..auth.fake_oauth import FakeProvider
from ..gateway.test_pages import browser  # noqa: F401 - the same Chromium fixture

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def header_set(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


def test_login_preflight_then_credentialed_call(stack, base: str, app_origin: str) -> None:  # noqa: ANN001
    path = f"/api/v1/auth/google?redirect_uri={base}/api/v1/auth/google/callback"
    preflight = stack.request("OPTIONS", path, headers={
        "Origin": app_origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-frontend-origin",  # what Chromium sends for axios' header
    })
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == app_origin
    assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
    assert "get" in header_set(preflight.headers["Access-Control-Allow-Methods"])
    assert "x-frontend-origin" in header_set(preflight.headers["Access-Control-Allow-Headers"])

    call = stack.request("GET", path, headers={"Origin": app_origin, "X-Frontend-Origin": app_origin})
    assert call.status == 200
    assert call.headers["Access-Control-Allow-Origin"] == app_origin
    assert call.headers["Access-Control-Allow-Credentials"] == "true"
    assert {"link", "retry-after", "x-request-id"} <= header_set(call.headers["Access-Control-Expose-Headers"])
    assert "Origin" in call.headers["Vary"]

    other = stack.request("OPTIONS", path, headers={"Origin": "https://evil.example",
                                                   "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in other.headers


# The released app's calls, as its axios instance makes them in the browser:
# credentials included, a refresh and a retry on a 401.
APP_SCRIPT = """
window.api = async (method, path, body) => {
  const send = () => fetch(API + path, {
    method, credentials: 'include',
    headers: body ? {'Content-Type': 'application/json'} : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  let reply = await send();
  if (reply.status === 401) {
    const refreshed = await fetch(API + '/api/v1/auth/refresh', {method: 'POST', credentials: 'include'});
    window.refreshes = (window.refreshes || []).concat([refreshed.status]);
    if (!refreshed.ok) return {status: 'signed out'};
    reply = await send();
  }
  return {status: reply.status, body: await reply.json()};
};
"""


def test_the_released_apps_flow_in_chromium(browser: Any, stack, base: str,  # noqa: F811, ANN001
                                            fake_provider: FakeProvider, app_origin: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{app_origin}/")
    page.add_script_tag(content=f"const API = {base!r};" + APP_SCRIPT)

    # Login.tsx: GET /auth/google with X-Frontend-Origin (a preflighted, credentialed call).
    fake_provider.next_user["google"] = {"id": "chromium-1", "name": "크롬사용자"}
    started = page.evaluate("""async ([api, origin]) => {
        const reply = await fetch(`${api}/api/v1/auth/google?redirect_uri=${api}/api/v1/auth/google/callback`,
            {credentials: 'include', headers: {'X-Frontend-Origin': origin}});
        return {status: reply.status, body: await reply.json()};
    }""", [base, app_origin])
    assert started["status"] == 200 and started["body"]["success"] is True
    # window.location.href = authUrl: to the provider, back to the callback, home.
    page.goto(started["body"]["data"]["authorization_url"])
    page.wait_for_url(f"{app_origin}/#/home")
    page.add_script_tag(content=f"const API = {base!r};" + APP_SCRIPT)
    cookies = {c["name"]: c for c in context.cookies(f"{base}/api/v1/auth/refresh")}
    assert {"s_access", "s_refresh"} <= cookies.keys() and "s_flow" not in cookies
    assert cookies["s_access"]["httpOnly"] and cookies["s_access"]["sameSite"] == "Lax"

    # Splash.tsx and MyPage.tsx: the profile with the cookie alone.
    me = page.evaluate("() => api('GET', '/api/v1/user/me')")
    assert me["status"] == 200 and me["body"]["username"] == "크롬사용자", me

    # The access cookie expires; the home page's two requests refresh together.
    context.clear_cookies(name="s_access")
    both = page.evaluate("""() => Promise.all([
        api('GET', '/api/v1/user/me'), api('GET', '/api/v1/user/me/characters')])""")
    assert [r["status"] for r in both] == [200, 200], both
    assert page.evaluate("() => window.refreshes") == [200, 200]
    again = page.evaluate("() => api('PATCH', '/api/v1/user/me', {nickname: '크롬닉네임'})")
    assert again["status"] == 200 and again["body"]["nickname"] == "크롬닉네임"

    # LogoutDialog.tsx: data.success, then the session is gone.
    out = page.evaluate("() => api('POST', '/api/v1/auth/logout')")
    assert out["status"] == 200 and out["body"]["success"] is True
    assert page.evaluate("() => api('GET', '/api/v1/user/me')") == {"status": "signed out"}
    assert errors == []
    context.close()
