"""The character function: the public catalog and the collection analysis."""

from __future__ import annotations

import psycopg
import pytest

from eco2.testing import Client

from ..support import ROOT, bearer

CHARACTER = ROOT / "functions" / "character" / "main.py"
MY = ROOT / "functions" / "my" / "main.py"
RECYCLABLE = "재활용폐기물"


@pytest.fixture
def character(function_env: dict[str, str]) -> Client:
    return Client(CHARACTER, env=function_env)


def test_catalog_is_public_and_complete(character: Client) -> None:
    result = character.get("/api/v1/character/catalog")
    assert result.status == 200
    catalog = result.json
    assert len(catalog) == 13
    assert catalog[0]["code"] == "char-eco" and catalog[0]["default"] is True
    categories = {c["category"] for c in catalog[1:]}
    assert categories == {"종이", "종이팩", "무색페트병", "플라스틱류", "비닐류", "발포합성수지", "유리병", "금속류",
                          "의류및원단", "전지", "조명제품", "전기전자제품"}
    assert len({c["code"] for c in catalog}) == 13
    assert all(c["tip"] for c in catalog)


def test_catalog_matches_the_database(function_env: dict[str, str]) -> None:
    with psycopg.connect(function_env["DATABASE_URL"]) as conn:
        rows = conn.execute("SELECT code, category FROM character.characters ORDER BY position").fetchall()
    assert rows[0] == ("char-eco", None) and len(rows) == 13


def test_analysis(character: Client, make_user, function_env: dict[str, str]) -> None:
    user, token = make_user()
    Client(MY, env=function_env).get("/api/v1/user/me", headers=bearer(token))  # 이코
    with psycopg.connect(function_env["DATABASE_URL"]) as conn:
        def scan(middle, correct, missing=()):
            conn.execute(
                """INSERT INTO scan.scans (user_id, created_at, major_category, middle_category, recyclable,
                                          correct, missing_steps)
                   VALUES (%s, clock_timestamp(), %s, %s, true, %s, %s)""",
                (user, RECYCLABLE, middle, correct, list(missing)))
        scan("종이", True)
        conn.execute("""INSERT INTO character.ownerships (user_id, character_code, source, source_id)
                        VALUES (%s, 'char-paepy', 'scan', 'x')""", (user,))
        scan("무색페트병", False, ["label_removed"])
        scan("무색페트병", False, ["label_removed", "cap_off"])
        scan("유리병", True)
    result = character.get("/api/v1/character/me/analysis", headers=bearer(token))
    assert result.status == 200, result.body
    body = result.json
    assert body["owned"] == 2 and body["total"] == 13
    by_code = {c["code"]: c for c in body["characters"]}
    assert by_code["char-paepy"]["owned"] and by_code["char-paepy"]["acquired_at"]
    assert not by_code["char-petty"]["owned"] and "무색페트병" in by_code["char-petty"]["how_to_earn"]
    counts = {row["category"]: (row["scans"], row["correct"]) for row in body["scans_by_category"]}
    assert counts == {"무색페트병": (2, 0), "종이": (1, 1), "유리병": (1, 1)}
    assert body["blocked"] == [{"category": "무색페트병", "code": "char-petty", "missing_steps": ["label_removed", "cap_off"]}]
    assert body["suggestion"]["code"] == "char-petty" and body["suggestion"]["reason"] == "missing_step"


def test_analysis_of_a_new_user_suggests_something(character: Client, make_user) -> None:
    _, token = make_user()
    body = character.get("/api/v1/character/me/analysis", headers=bearer(token)).json
    assert body["owned"] == 0 and body["scans_by_category"] == [] and body["blocked"] == []
    assert body["suggestion"]["reason"] == "new_category"


def test_analysis_needs_a_token(character: Client) -> None:
    assert character.get("/api/v1/character/me/analysis").status == 401
