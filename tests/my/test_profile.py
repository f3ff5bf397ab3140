"""The my function: profile, edits, points and the account's deletion."""

from __future__ import annotations

import psycopg
import pytest

from eco2.testing import Client
from eco2_tools.functions import discover

from ..support import ROOT, bearer

MY = ROOT / "functions" / "my" / "main.py"


@pytest.fixture
def my(function_env: dict[str, str]) -> Client:
    return Client(MY, env=function_env)


def test_first_read_creates_profile_with_mascot_and_points(my: Client, make_user) -> None:
    user_id, token = make_user()
    result = my.get("/api/v1/user/me", headers=bearer(token))
    assert result.status == 200, result.body
    body = result.json
    assert body["user_id"] == user_id
    assert 2 <= len(body["nickname"]) <= 20  # generated: adjective + noun
    assert body["points"] == {"balance": 30, "lifetime": 30, "level": 1, "level_name": "새싹", "next_level_at": 50}
    characters = my.get("/api/v1/user/me/characters", headers=bearer(token)).json
    assert [c["code"] for c in characters] == ["char-eco"]
    # a second read changes nothing
    again = my.get("/api/v1/user/me", headers=bearer(token)).json
    assert again["points"]["balance"] == 30 and again["nickname"] == body["nickname"]


def test_nickname_from_sign_in_is_kept(my: Client, make_user) -> None:
    _, token = make_user("초록나무")
    assert my.get("/api/v1/user/me", headers=bearer(token)).json["nickname"] == "초록나무"


def test_without_token_is_401(my: Client) -> None:
    assert my.get("/api/v1/user/me").status == 401


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"nickname": "  푸른바다  "}, {"nickname": "푸른바다"}),
        ({"phone_number": "01012345678"}, {"phone_number": "010-1234-5678"}),
        ({"phone_number": "+82 10-9876-5432"}, {"phone_number": "010-9876-5432"}),
        ({"phone_number": "+821011112222"}, {"phone_number": "010-1111-2222"}),
        ({"nickname": "둘도", "phone_number": "010 3333 4444"}, {"nickname": "둘도", "phone_number": "010-3333-4444"}),
    ],
)
def test_patch(my: Client, make_user, patch: dict, expected: dict) -> None:
    _, token = make_user()
    result = my.patch("/api/v1/user/me", json=patch, headers=bearer(token))
    assert result.status == 200, result.body
    for key, value in expected.items():
        assert result.json[key] == value


@pytest.mark.parametrize(
    "nickname",
    ["이름\u200b", "\u202e이름", "이\u2066름\u2069", "a\u200db", "이름\u0007", "\u00ad이름", "이\u2028름",
     "\ufeff이름", "이\u200e름", "이름\ue000"],
    ids=["zero-width space", "RLO", "isolate", "ZWJ", "BEL", "soft hyphen", "line separator", "BOM", "LRM",
         "private use"],
)
def test_invisible_and_bidi_characters_are_refused(my: Client, make_user, nickname: str) -> None:
    """Control, format and bidi characters make names that look like others (issue 11)."""
    _, token = make_user()
    result = my.patch("/api/v1/user/me", json={"nickname": nickname}, headers=bearer(token))
    assert result.status == 422, result.body
    assert result.json["errors"][0]["loc"] == ["body", "nickname"]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("ＥＣＯ친구", "ECO친구"), ("ｅｃｏ　２", "eco 2"), ("\u1100\u1161\u11a8나무", "각나무"), ("㈜나무", "(주)나무")],
    ids=["full-width", "ideographic space", "conjoining jamo", "compatibility"],
)
def test_nicknames_are_nfkc_normalized(my: Client, make_user, sent: str, stored: str) -> None:
    _, token = make_user()
    result = my.patch("/api/v1/user/me", json={"nickname": sent}, headers=bearer(token))
    assert result.status == 200, result.body
    assert result.json["nickname"] == stored


def test_a_nickname_too_long_once_normalized_is_422(my: Client, make_user) -> None:
    _, token = make_user()
    # two characters as sent, 36 once NFKC spells the ligatures out
    result = my.patch("/api/v1/user/me", json={"nickname": "\ufdfa\ufdfa"}, headers=bearer(token))
    assert result.status == 422, result.body


def test_a_sign_in_nickname_with_bidi_characters_is_not_kept(my: Client, make_user) -> None:
    _, token = make_user("\u202e나무꾼")
    nickname = my.get("/api/v1/user/me", headers=bearer(token)).json["nickname"]
    assert "\u202e" not in nickname and nickname != "나무꾼"  # a generated one instead


def test_phone_can_be_cleared(my: Client, make_user) -> None:
    _, token = make_user()
    my.patch("/api/v1/user/me", json={"phone_number": "01012345678"}, headers=bearer(token))
    assert my.patch("/api/v1/user/me", json={"phone_number": None}, headers=bearer(token)).json["phone_number"] is None


@pytest.mark.parametrize(
    "patch",
    [
        {},
        {"nickname": "x"},
        {"nickname": " a "},
        {"nickname": "가" * 21},
        {"nickname": None},
        {"nickname": 12},
        {"phone_number": "02-123-4567"},
        {"phone_number": "010-1234-567"},
        {"phone_number": "+1 415 555 0100"},
        {"phone_number": "010-1234-5678'; DROP TABLE my.profiles; --"},
        {"email": "a@b.c"},
    ],
)
def test_bad_patch_is_422(my: Client, make_user, patch: dict) -> None:
    _, token = make_user()
    result = my.patch("/api/v1/user/me", json=patch, headers=bearer(token))
    assert result.status == 422, result.body
    assert result.content_type == "application/problem+json"


def test_points_and_level(my: Client, make_user) -> None:
    _, token = make_user()
    assert my.get("/api/v1/user/me/points", headers=bearer(token)).json["balance"] == 0
    my.get("/api/v1/user/me", headers=bearer(token))
    assert my.get("/api/v1/user/me/points", headers=bearer(token)).json == {
        "balance": 30, "lifetime": 30, "level": 1, "level_name": "새싹", "next_level_at": 50,
    }


def test_ownership(my: Client, make_user) -> None:
    _, token = make_user()
    my.get("/api/v1/user/me", headers=bearer(token))
    eco = my.get("/api/v1/user/me/characters/char-eco/ownership", headers=bearer(token)).json
    assert eco["owned"] is True and eco["name"] == "이코" and eco["character_name"] == "이코"
    by_name = my.get("/api/v1/user/me/characters/이코/ownership", headers=bearer(token)).json
    assert by_name == eco  # the released app names characters by name
    assert my.get("/api/v1/user/me/characters/페티/ownership", headers=bearer(token)).json["owned"] is False
    assert my.get("/api/v1/user/me/characters/char-petty/ownership", headers=bearer(token)).json["owned"] is False
    assert my.get("/api/v1/user/me/characters/char-nope/ownership", headers=bearer(token)).status == 404


def test_delete_erases_everywhere_and_revokes(my: Client, make_user, function_env: dict[str, str]) -> None:
    user_id, token = make_user()
    my.get("/api/v1/user/me", headers=bearer(token))
    with psycopg.connect(function_env["DATABASE_URL"]) as conn:
        conn.execute(
            """INSERT INTO scan.scans (user_id, major_category, middle_category, recyclable, correct)
               VALUES (%s, '재활용폐기물', '종이', true, true)""", (user_id,))
    assert my.delete("/api/v1/user/me", headers=bearer(token)).status == 204
    with psycopg.connect(function_env["DATABASE_URL"]) as conn:
        for table in ("auth.users", "my.profiles", "my.point_ledger", "my.point_balances",
                      "character.ownerships", "scan.scans"):
            column = "id" if table == "auth.users" else "user_id"
            (count,) = conn.execute(f"SELECT count(*) FROM {table} WHERE {column} = %s", (user_id,)).fetchone()
            assert count == 0, table
    for spec in discover():
        client = Client(spec.source, env=function_env)
        assert client.get(f"{spec.prefix}/session", headers=bearer(token)).status == 401, spec.name
    # a token issued before the deletion is refused even if its jti was never seen
    assert my.get("/api/v1/user/me", headers=bearer(token)).status == 401


def test_profile_of_a_vanished_user_is_404(my: Client, make_user, function_env: dict[str, str]) -> None:
    user_id, token = make_user()
    with psycopg.connect(function_env["DATABASE_URL"]) as conn:
        conn.execute("DELETE FROM auth.users WHERE id = %s", (user_id,))
    assert my.get("/api/v1/user/me", headers=bearer(token)).status == 404
