"""The released app's chat call against eco2, through the dev gateway, with cookies only.

The app (eco2-team/frontend, badf466) posts ``{message, temperature, session_id}``
(and ``image_url``, the ``cdn_url`` of an upload on the chat channel) to
``/api/v1/chat/messages`` and shows ``user_answer`` of the 201 reply; the
original answered only that member. The stack has no API key: chat answers
offline, from the knowledge base.
"""

from __future__ import annotations

import pytest

from .app import App
from .test_scan import upload

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_chat_message(signed_in: App) -> None:
    reply = signed_in.call("POST", "/api/v1/chat/messages",
                           json_body={"message": "페트병은 어떻게 버려요?", "temperature": 0.2,
                                      "session_id": "app-session"})
    assert reply.status_code == 201, reply.text
    assert any(p.request.headers["Access-Control-Request-Method"] == "POST" for p in signed_in.preflights)
    body = reply.json()
    assert isinstance(body["user_answer"], str) and "페트병" in body["user_answer"]
    assert body["session_id"] == "app-session" and body["model"] == "offline"
    assert "이미지가 인식되지 않았어요" not in reply.text


def test_chat_about_a_photo(signed_in: App) -> None:
    """The chat page's photo: uploaded on the chat channel, its cdn_url sent as image_url."""
    reply = signed_in.call("POST", "/api/v1/chat/messages",
                           json_body={"message": "이건 어떻게 버려요?", "temperature": 0.2,
                                      "image_url": upload(signed_in, "chat")})
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert isinstance(body["user_answer"], str) and body["user_answer"]
    assert body["photo"]["origin"] == "image" and body["sources"][0]["id"] == body["photo"]["category"]
