"""Concurrent refresh is not theft (issue 12), and the grace window cannot fork
a stolen refresh token into a second session.

The released app does not serialize its refreshes: when the access token
expires, each of the home page's parallel requests gets a 401 and refreshes
with the same s_refresh cookie. A used token presented again within
ECO2_REFRESH_GRACE_SECONDS of its rotation gets a sibling of its successor;
after the window, or once the family has rotated on, it revokes the family.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from eco2.testing import Client, Result

from ..support import bearer
from .conftest import AUTH, Flow


def refresh_with_cookie(client: Client, token: str) -> Result:
    """POST /auth/refresh the way the app does: the s_refresh cookie, no body."""
    client._client.set_cookie("s_refresh", token, path="/api/v1/auth")  # noqa: SLF001 - its cookie jar
    return client.post("/api/v1/auth/refresh")


def signed_in(client: Client, access_token: str) -> bool:
    return client.get("/api/v1/auth/session", headers=bearer(access_token)).status == 200


@pytest.fixture
def session(flow: Flow) -> dict:
    return flow.login("google", {"id": f"g-{uuid.uuid4()}", "name": "parallel"})


def grace(auth_env: dict[str, str], seconds: int) -> Client:
    return Client(AUTH, env={**auth_env, "ECO2_REFRESH_GRACE_SECONDS": str(seconds)})


def test_parallel_refreshes_with_one_cookie_all_succeed(auth_env: dict[str, str], session: dict) -> None:
    clients = [Client(AUTH, env=auth_env) for _ in range(8)]  # the default window: 30 s; a cookie jar each
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda client: refresh_with_cookie(client, session["refresh_token"]), clients))
    assert [r.status for r in results] == [200] * 8, [r.body for r in results]
    refresh_tokens = {r.json["refresh_token"] for r in results}
    assert len(refresh_tokens) == 8 and session["refresh_token"] not in refresh_tokens
    for result in results:  # every retried request goes through
        assert signed_in(clients[0], result.json["access_token"])
        assert any(c.startswith("s_refresh=") for c in result.headers.getlist("Set-Cookie"))
    # The browser keeps whichever cookie it stored last; the session goes on with it.
    later = refresh_with_cookie(clients[0], results[-1].json["refresh_token"])
    assert later.status == 200
    assert signed_in(clients[0], later.json["access_token"])


def test_a_replay_after_the_window_revokes(auth_env: dict[str, str], session: dict) -> None:
    auth = grace(auth_env, 1)
    rotated = refresh_with_cookie(auth, session["refresh_token"]).json
    time.sleep(1.5)
    replay = refresh_with_cookie(auth, session["refresh_token"])
    assert replay.status == 401
    assert refresh_with_cookie(auth, rotated["refresh_token"]).status == 401  # the family is revoked
    assert not signed_in(auth, rotated["access_token"])


def test_the_window_is_not_extended_by_replays(auth_env: dict[str, str], session: dict) -> None:
    auth = grace(auth_env, 2)
    refresh_with_cookie(auth, session["refresh_token"])
    time.sleep(1)
    assert refresh_with_cookie(auth, session["refresh_token"]).status == 200  # within 2 s of the rotation
    time.sleep(1.5)  # 2.5 s after the rotation, 1.5 s after the last replay
    assert refresh_with_cookie(auth, session["refresh_token"]).status == 401


# -- a thief holding the same token: no second session ------------------------------------


def test_a_thief_in_the_window_is_cut_off_at_the_users_next_refresh(auth: Client, session: dict) -> None:
    stolen = session["refresh_token"]
    user = refresh_with_cookie(auth, stolen).json          # the user rotates first
    thief = refresh_with_cookie(auth, stolen).json         # the thief replays within the window: a sibling
    assert signed_in(auth, thief["access_token"])
    user_next = refresh_with_cookie(auth, user["refresh_token"])  # the user's next refresh moves the family on
    assert user_next.status == 200
    # the thief's branch is now behind the head: using it is a reuse, and ends the family
    assert refresh_with_cookie(auth, thief["refresh_token"]).status == 401
    for pair in (thief, user, user_next.json):
        assert not signed_in(auth, pair["access_token"])
    assert refresh_with_cookie(auth, user_next.json["refresh_token"]).status == 401


def test_a_thief_who_rotates_first_ends_the_family_at_the_users_refresh(auth: Client, session: dict) -> None:
    stolen = session["refresh_token"]
    user = refresh_with_cookie(auth, stolen).json
    thief = refresh_with_cookie(auth, stolen).json
    thief_next = refresh_with_cookie(auth, thief["refresh_token"])  # the thief's sibling rotates on first
    assert thief_next.status == 200
    assert refresh_with_cookie(auth, user["refresh_token"]).status == 401  # the user's is behind: reuse
    assert refresh_with_cookie(auth, thief_next.json["refresh_token"]).status == 401  # the thief is out too
    assert not signed_in(auth, thief_next.json["access_token"])


def test_no_grace_once_the_family_has_moved_on(auth: Client, session: dict) -> None:
    """Within the window of the first token, but after its successor rotated: a reuse."""
    first = refresh_with_cookie(auth, session["refresh_token"]).json
    second = refresh_with_cookie(auth, first["refresh_token"]).json
    assert refresh_with_cookie(auth, session["refresh_token"]).status == 401
    assert not signed_in(auth, second["access_token"])
    assert refresh_with_cookie(auth, second["refresh_token"]).status == 401


def test_refusals_say_the_same_and_the_log_says_why(auth: Client, session: dict,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown, reused and revoked tokens get one message; only the log tells them apart (issue 11)."""
    capsys.readouterr()
    unknown = refresh_with_cookie(auth, "made-up")
    first = refresh_with_cookie(auth, session["refresh_token"]).json
    second = refresh_with_cookie(auth, first["refresh_token"]).json
    reused = refresh_with_cookie(auth, session["refresh_token"])      # behind the head: a reuse
    revoked = refresh_with_cookie(auth, second["refresh_token"])      # its family was just revoked
    bodies = [r.json for r in (unknown, reused, revoked)]
    assert [r.status for r in (unknown, reused, revoked)] == [401, 401, 401]
    assert all(b == {**bodies[0], "instance": b.get("instance")} for b in bodies), bodies
    assert bodies[0]["type"].endswith("refresh-refused")
    log = capsys.readouterr().out
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    reasons = [line["reason"] for line in lines if line["msg"] == "refresh refused"]
    assert reasons == ["unknown", "reuse", "revoked"]
