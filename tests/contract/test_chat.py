"""The released app's chat calls against eco2, through the dev gateway, with cookies only.

The app (eco2-team/frontend, badf466; ChatInputBar.tsx) posts
``{session_id, message, temperature: 0.2, image_url}`` to
``/api/v1/chat/messages``: ``session_id`` absent until an answer gave one,
then that one; ``image_url`` null, or the ``cdn_url`` of a photo uploaded on
the chat channel, with ``message`` empty when nothing was typed. It shows
``user_answer`` and keeps ``session_id``. The stack has no API key: chat
answers offline, from the knowledge base.
"""

from __future__ import annotations

import pytest

from .app import App
from .test_scan import upload

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def send(app: App, message: str, image_url: str | None = None, session_id: str | None = None):  # noqa: ANN201
    payload = {"message": message, "temperature": 0.2, "image_url": image_url}
    if session_id is not None:  # JSON.stringify drops an undefined session_id
        payload["session_id"] = session_id
    return app.call("POST", "/api/v1/chat/messages", json_body=payload)


def test_chat_messages_in_one_session(signed_in: App) -> None:
    first = send(signed_in, "페트병은 어떻게 버려요?")
    assert first.status_code == 201, first.text
    assert any(p.request.headers["Access-Control-Request-Method"] == "POST" for p in signed_in.preflights)
    body = first.json()
    assert isinstance(body["user_answer"], str) and "페트병" in body["user_answer"]
    assert body["model"] == "offline" and "이미지가 인식되지 않았어요" not in first.text
    second = send(signed_in, "뚜껑은요?", session_id=body["session_id"])
    assert second.status_code == 201, second.text
    assert second.json()["session_id"] == body["session_id"] and second.json()["user_answer"]
    kept = signed_in.call("GET", f"/api/v1/chat/sessions/{body['session_id']}")
    assert [t["message"] for t in kept.json()["turns"]] == ["페트병은 어떻게 버려요?", "뚜껑은요?"]


def test_chat_about_a_photo_sent_alone(signed_in: App) -> None:
    reply = send(signed_in, "", image_url=upload(signed_in, "chat"))
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert isinstance(body["user_answer"], str) and body["user_answer"]
    assert body["photo"]["origin"] == "image" and body["sources"][0]["id"] == body["photo"]["category"]
