"""chat with no API key: answers from the knowledge base, sessions, limits, validation, scans."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import psycopg
import pytest

from eco2 import kv
from eco2.chat import offline
from eco2.knowledge import load
from eco2.testing import Client

from ..support import ROOT, bearer, is_problem
from .conftest import CHAT, MESSAGES, ask, chat_client, events

ORIGINAL_FALLBACK = "이미지가 인식되지 않았어요"


@pytest.fixture(scope="module")
def chat(chat_env: dict[str, str]) -> Client:
    return chat_client(chat_env, ECO2_CHAT_RATE_LIMIT=5, ECO2_CHAT_HISTORY_TURNS=3)


@pytest.fixture
def user(make_user) -> tuple[str, str]:
    return make_user()


def test_the_released_apps_body_gets_201_with_user_answer(chat: Client, user) -> None:
    _, token = user
    # What the app sends (its axios instance: JSON, any Accept), session_id included.
    result = chat.post(MESSAGES, json={"message": "우유팩은 어떻게 버려요?", "temperature": 0.2,
                                       "session_id": "app-session-1"},
                       headers={**bearer(token), "Accept": "application/json, text/plain, */*"})
    assert result.status == 201, result.body
    body = result.json
    assert body["model"] == offline.MODEL and body["degraded"] is False and body["usage"] is None
    assert body["session_id"] == "app-session-1" and len(body["message_id"]) == 32
    milk = load().category("paper_pack")
    assert milk.guide.summary in body["user_answer"]
    assert {"kind": "item", "id": "milk-carton", "title": "우유팩", "category": "paper_pack"} in body["sources"]
    assert body["sources"][0] == {"kind": "category", "id": "paper_pack", "title": milk.name, "category": "paper_pack"}
    assert ORIGINAL_FALLBACK not in result.body.decode()
    # Named in words, not seen in a photo: where it goes, not "우유팩이네요!".
    assert body["user_answer"].startswith("우유팩은 ") and "네요!" not in body["user_answer"]


def test_a_faq_answers_in_its_own_words(chat: Client, user) -> None:
    # The FAQ's own question: "치킨 뼈는 어디에 버려요?" names the item 동물 뼈 by
    # its synonym 치킨뼈, whose guide answers first (eco2.knowledge.index).
    body = ask(chat, user[1], "치킨 뼈도 음식물 쓰레기인가요?").json
    faq = next(f for f in load().faq if f.id == "chicken-bones")
    assert body["user_answer"] == faq.answer
    assert any(s["kind"] == "faq" and s["id"] == "chicken-bones" for s in body["sources"])


def test_off_topic_is_steered_back_with_no_sources(chat: Client, user) -> None:
    body = ask(chat, user[1], "오늘 날씨 어때?").json
    assert body["user_answer"] == offline.NOTHING_FOUND and body["sources"] == []


def test_a_new_session_id_is_made_and_turns_are_kept(chat: Client, user) -> None:
    _, token = user
    first = ask(chat, token, "페트병").json
    sid = first["session_id"]
    second = ask(chat, token, "건전지", session_id=sid).json
    assert second["session_id"] == sid
    view = chat.get(f"/api/v1/chat/sessions/{sid}", headers=bearer(token))
    assert view.status == 200
    turns = view.json["turns"]
    assert [t["message"] for t in turns] == ["페트병", "건전지"]
    assert [t["message_id"] for t in turns] == [first["message_id"], second["message_id"]]
    assert turns[1]["user_answer"] == second["user_answer"] and turns[1]["sources"] == second["sources"]
    assert 0 < view.json["expires_in"] <= 1800


def test_a_follow_up_that_names_nothing_continues_the_topic(chat: Client, user) -> None:
    _, token = user
    alone = ask(chat, token, "뚜껑은요?").json  # a new session: the search sees only this
    sid = ask(chat, token, "페트병").json["session_id"]
    follow = ask(chat, token, "뚜껑은요?", session_id=sid).json
    assert alone["sources"][0]["id"] == "glass"
    assert follow["sources"][0]["id"] == "clear_pet" and ("faq", "pet-cap") in {
        (s["kind"], s["id"]) for s in follow["sources"]}
    # A follow-up that names its own thing is searched alone.
    assert ask(chat, token, "건전지는?", session_id=sid).json["sources"][0]["id"] == "battery"


def test_only_the_last_turns_are_kept(chat: Client, chat_env, user) -> None:
    user_id, token = user
    for word in ("종이", "유리병", "캔", "비닐"):
        ask(chat, token, word, session_id="trim")
    turns = chat.get("/api/v1/chat/sessions/trim", headers=bearer(token)).json["turns"]
    assert [t["message"] for t in turns] == ["유리병", "캔", "비닐"]  # ECO2_CHAT_HISTORY_TURNS=3


def test_sessions_are_the_owners_only(chat: Client, make_user) -> None:
    _, owner = make_user()
    _, other = make_user()
    sid = ask(chat, owner, "스티로폼").json["session_id"]
    assert is_problem(chat.get(f"/api/v1/chat/sessions/{sid}", headers=bearer(other)), 404)
    assert is_problem(chat.delete(f"/api/v1/chat/sessions/{sid}", headers=bearer(other)), 404)
    # The other user's message under the same id starts their own session: the owner's is untouched.
    ask(chat, other, "유리병", session_id=sid)
    assert len(chat.get(f"/api/v1/chat/sessions/{sid}", headers=bearer(owner)).json["turns"]) == 1
    assert chat.delete(f"/api/v1/chat/sessions/{sid}", headers=bearer(owner)).status == 204
    assert is_problem(chat.get(f"/api/v1/chat/sessions/{sid}", headers=bearer(owner)), 404)
    assert is_problem(chat.get("/api/v1/chat/sessions/a%20b", headers=bearer(owner)), 404)
    assert chat.get(f"/api/v1/chat/sessions/{sid}").status == 401


def test_an_expired_session_is_gone_and_starts_over(chat: Client, user) -> None:
    user_id, token = user
    sid = ask(chat, token, "페트병").json["session_id"]
    redis = chat.function.redis
    assert 1790 <= redis.ttl(kv.chat_session(user_id, sid)) <= 1800
    redis.expire(kv.chat_session(user_id, sid), 0)  # Redis expires it now, as it would after 30 min
    assert is_problem(chat.get(f"/api/v1/chat/sessions/{sid}", headers=bearer(token)), 404)
    ask(chat, token, "유리병", session_id=sid)
    turns = chat.get(f"/api/v1/chat/sessions/{sid}", headers=bearer(token)).json["turns"]
    assert [t["message"] for t in turns] == ["유리병"]


def test_deleting_the_account_erases_its_sessions(chat: Client, chat_env, user) -> None:
    user_id, token = user
    sids = [ask(chat, token, "캔", session_id=f"s{n}").json["session_id"] for n in range(2)]
    redis = chat.function.redis
    assert all(redis.exists(kv.chat_session(user_id, s)) for s in sids)
    my = Client(ROOT / "functions" / "my" / "main.py", env=chat_env)
    try:
        assert my.delete("/api/v1/user/me", headers=bearer(token)).status == 204
    finally:
        my.close()
    assert not any(redis.exists(kv.chat_session(user_id, s)) for s in sids)
    assert not redis.exists(kv.chat_sessions(user_id))


def test_an_answer_finished_after_the_account_is_deleted_saves_nothing(chat: Client, user) -> None:
    """The token was checked, then the account was deleted (its tokens revoked,
    its sessions erased) while the answer was on its way: the turn is not
    written, so no session outlives the account, and the caller gets a 401."""
    import jwt

    from eco2 import tokens
    from eco2.chat import conversation
    from eco2.problems import Problem

    user_id, token = user
    iat = jwt.decode(token, options={"verify_signature": False})["iat"]
    redis, settings = chat.function.redis, chat.function.settings
    tokens.revoke_all(redis, user_id, settings)  # what my's DELETE /me does first
    for answer in (conversation.answer, lambda *a: list(conversation.stream(*a))):
        with pytest.raises(Problem) as refused:
            answer(redis, settings, conversation.Ask(user_id, "캔", "after-delete", issued_at=iat))
        assert refused.value.status == 401
    assert not redis.exists(kv.chat_session(user_id, "after-delete"))
    assert not redis.exists(kv.chat_sessions(user_id))
    # A token issued after the mark (a later sign-in) saves as before.
    mark = int(redis.get(kv.user_revoked_before(user_id)))
    record = conversation.answer(redis, settings, conversation.Ask(user_id, "캔", "later", issued_at=mark + 1))
    assert redis.exists(kv.chat_session(user_id, "later")) and record["session_id"] == "later"


def test_the_session_index_forgets_expired_sessions(chat: Client, user, monkeypatch) -> None:
    """A user who keeps chatting keeps the index alive: it must not keep every id it ever held."""
    from eco2.chat import sessions

    user_id, _ = user
    redis, now = chat.function.redis, time.time()
    sessions.append(redis, user_id, "old", {"message": "캔"}, keep=3, ttl=60)
    monkeypatch.setattr(sessions.time, "time", lambda: now + 61)  # "old" has expired by the next message
    redis.delete(kv.chat_session(user_id, "old"))  # as Redis expires it
    sessions.append(redis, user_id, "new", {"message": "병"}, keep=3, ttl=60)
    assert [i.decode() for i in redis.zrange(kv.chat_sessions(user_id), 0, -1)] == ["new"]


def test_the_stream_offline_is_one_delta_and_done(chat: Client, user) -> None:
    result = ask(chat, user[1], "유리병 버리는 법", stream=True)
    assert result.status == 200 and result.content_type.startswith("text/event-stream")
    got = events(result.body)
    assert [name for name, _ in got] == ["delta", "done"]
    assert got[0][1]["text"] == got[1][1]["user_answer"] and got[1][1]["model"] == "offline"


@pytest.mark.parametrize(("body", "where"), [
    ({"message": "가" * 1001}, "message"),
    ({"message": "   "}, "message"),
    ({}, "message"),
    ({"message": "페트병", "temperature": 3}, "temperature"),
    ({"message": "페트병", "session_id": "../../etc"}, "session_id"),
    ({"message": "페트병", "scan_id": "not-a-uuid"}, "scan_id"),
    ({"message": 5}, "message"),
])
def test_bad_input_is_422(chat: Client, user, body: dict, where: str) -> None:
    result = chat.post(MESSAGES, json=body, headers=bearer(user[1]))
    assert is_problem(result, 422), result.body
    assert ["body", where] in [e["loc"][:2] for e in result.json["errors"]]


def test_a_photo_alone_needs_no_message(chat: Client, database_url: str, make_user) -> None:
    """The app sends ``message: ""`` with a photo and nothing typed, and ``image_url: null`` without one."""
    user_id, token = make_user()
    scan_id = _scan(database_url, user_id, "무색페트병", [])
    result = chat.post(MESSAGES, json={"message": "", "scan_id": scan_id, "temperature": 0.2}, headers=bearer(token))
    assert result.status == 201, result.body
    assert result.json["photo"]["category"] == "clear_pet" and result.json["user_answer"]
    text = chat.post(MESSAGES, json={"message": "캔", "image_url": None, "temperature": 0.2}, headers=bearer(token))
    assert text.status == 201 and text.json["photo"] is None
    turns = chat.get(f"/api/v1/chat/sessions/{result.json['session_id']}", headers=bearer(token)).json["turns"]
    assert turns[0]["message"] == ""


def test_a_message_of_1000_characters_is_fine(chat: Client, user) -> None:
    assert ask(chat, user[1], "페트병 " + "가" * 996).status == 201


def test_without_a_token_is_401(chat: Client) -> None:
    assert is_problem(chat.post(MESSAGES, json={"message": "페트병"}), 401)


def test_the_rate_limit_is_per_user_with_retry_after(chat: Client, make_user) -> None:
    _, token = make_user()
    _, other = make_user()
    window = int(time.time()) // 60
    results = [ask(chat, token, "캔") for _ in range(6)]
    if int(time.time()) // 60 == window:  # all in one fixed window
        assert [r.status for r in results] == [201] * 5 + [429]  # ECO2_CHAT_RATE_LIMIT=5
    else:  # the count restarted with the next minute: the new window fills up too
        results += [ask(chat, token, "캔") for _ in range(5)]
    limited = next(r for r in results if r.status != 201)
    assert is_problem(limited, 429) and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert ask(chat, other, "캔").status == 201


def _scan(database_url: str, user_id: str, middle: str, missing: list[str]) -> str:
    with psycopg.connect(database_url) as conn:
        (scan_id,) = conn.execute(
            """INSERT INTO scan.scans (user_id, major_category, middle_category, item, recyclable, correct,
                                       missing_steps)
               VALUES (%s, '재활용폐기물', %s, 'pet-bottle', true, %s, %s) RETURNING id""",
            (user_id, middle, not missing, missing),
        ).fetchone()
    return str(scan_id)


def test_a_scan_joins_the_context(chat: Client, database_url: str, make_user) -> None:
    user_id, token = make_user()
    scan_id = _scan(database_url, user_id, "무색페트병", ["label_removed"])
    body = ask(chat, token, "이거 어떻게 해요?", scan_id=scan_id).json
    assert body["photo"] == {"origin": "scan", "category": "clear_pet", "name": body["photo"]["name"],
                             "item": body["photo"]["item"], "missing_steps": ["label_removed"]}
    assert body["sources"][0]["id"] == "clear_pet"
    assert "1가지 준비가 남았어요" in body["user_answer"]
    _, other = make_user()
    assert is_problem(ask(chat, other, "이거 어떻게 해요?", scan_id=scan_id), 404)


def test_a_follow_up_to_a_photo_continues_its_topic(chat: Client, database_url: str, make_user) -> None:
    """The app's flow: a photo alone (``message: ""``), then a question that names nothing."""
    user_id, token = make_user()
    sid = ask(chat, token, "", scan_id=_scan(database_url, user_id, "무색페트병", [])).json["session_id"]
    follow = ask(chat, token, "뚜껑은요?", session_id=sid).json
    assert follow["sources"][0]["id"] == "clear_pet", follow["sources"]


def test_openai_and_onnxruntime_stay_unimported(chat_env: dict[str, str], make_user) -> None:
    """A health check and an offline answer import neither (checked in a fresh process)."""
    _, token = make_user()
    script = f"""
import json, sys
from eco2.testing import Client
chat = Client({str(CHAT)!r}, env=json.loads(sys.argv[1]))
health = chat.get("/healthz").status
after_health = sorted(m for m in ("openai", "onnxruntime") if m in sys.modules)
answer = chat.post("/api/v1/chat/messages", json={{"message": "페트병"}},
                   headers={{"Authorization": "Bearer " + sys.argv[2]}})
print(json.dumps([health, after_health, answer.status,
                  sorted(m for m in ("openai", "onnxruntime", "PIL") if m in sys.modules)]))
"""
    out = subprocess.run([sys.executable, "-c", script, json.dumps(chat_env), token],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [200, [], 201, []]
