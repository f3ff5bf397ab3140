"""The released app's chat call against eco2, through the dev gateway, with cookies only.

The app (eco2-team/frontend, badf466) posts ``{message, temperature, session_id}``
(and ``image_url`` after an upload) to ``/api/v1/chat/messages`` and shows
``user_answer`` of the 201 reply; the original answered only that member. The
stack has no API key: chat answers offline, from the knowledge base.
"""

from __future__ import annotations

import pytest

from .app import App

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
