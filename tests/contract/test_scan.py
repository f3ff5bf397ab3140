"""The released app's scan calls against eco2, through the dev gateway, with cookies only.

The app (eco2-team/frontend, badf466): the camera page uploads the photo
(POST /api/v1/images/scan, then a PUT to upload_url), posts ``{image_url, user_input?}``
to /api/v1/scan/classify and renders src/pages/Camera/Answer.tsx from the answer
(scan.type.ts: ScanClassifyResponse): the classification's three categories,
``final_answer``'s steps, insufficiencies and user_answer, and ``reward`` (null:
"needs improvement"; ``received``: the celebration). The categories list is
ScanCategoryResponse.
"""

from __future__ import annotations

import uuid

import pytest

from ..image.conftest import http, jpeg
from .app import App

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def upload(app: App, channel: str = "scan") -> str:
    """The camera page's upload (the chat page's with ``channel="chat"``): ask,
    PUT with the file's type; cdn_url is the image_url."""
    asked = app.call("POST", f"/api/v1/images/{channel}", json_body={"filename": "1705123456789.jpg",
                                                                       "content_type": "image/jpeg"})
    assert asked.status_code == 200, asked.text
    ticket = asked.json()
    put = http("PUT", ticket["upload_url"], jpeg(), {"Content-Type": "image/jpeg"})
    assert put.status == 200, put.body
    return ticket["cdn_url"]


def test_classify_as_the_app_renders_it(signed_in: App) -> None:
    reply = signed_in.call("POST", "/api/v1/scan/classify",
                           json_body={"image_url": upload(signed_in), "user_input": "우유팩이에요"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert isinstance(body["task_id"], str) and body["status"] == "completed" and isinstance(body["message"], str)
    pipeline = body["pipeline_result"]
    classification = pipeline["classification_result"]["classification"]
    assert classification == {"major_category": "재활용폐기물", "middle_category": "종이팩",
                              "minor_category": "우유팩"}  # middle_category picks the art and the map filter
    assert isinstance(pipeline["classification_result"]["situation_tags"], list)
    assert isinstance(pipeline["disposal_rules"]["key"], str) and pipeline["disposal_rules"]["category"] == "종이팩"
    final = pipeline["final_answer"]
    assert final["disposal_steps"] and all(k.startswith("단계") and isinstance(v, str)
                                           for k, v in final["disposal_steps"].items())
    assert final["insufficiencies"] == [] and isinstance(final["user_answer"], str) and final["user_answer"]
    reward = body["reward"]
    assert reward["received"] is True and reward["already_owned"] is False
    assert reward["match_reason"] == "종이팩" and reward["name"] and reward["dialog"]
    # The same scan, by its owner; the categories, without a cookie.
    task = signed_in.call("GET", f"/api/v1/scan/task/{body['task_id']}")
    assert task.status_code == 200 and task.json()["pipeline_result"] == pipeline


def test_reward_is_an_explicit_null_when_nothing_matches(signed_in: App) -> None:
    reply = signed_in.call("POST", "/api/v1/scan/classify", json_body={"image_url": upload(signed_in),
                                                                       "user_input": "칫솔"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert "reward" in body and body["reward"] is None


def test_categories(app: App) -> None:
    reply = app.call("GET", "/api/v1/scan/categories")
    assert reply.status_code == 200
    categories = reply.json()
    assert len(categories) == 8
    for entry in categories:
        assert set(entry) == {"id", "name", "display_name", "instructions"}
        assert isinstance(entry["name"], str) and all(isinstance(line, str) for line in entry["instructions"])


def test_someone_elses_task_is_not_found(signed_in: App, app_origin: str, base: str, fake_provider) -> None:
    mine = signed_in.call("POST", "/api/v1/scan/classify", json_body={"image_url": upload(signed_in)}).json()
    other = App(base, app_origin)
    try:
        fake_provider.next_user["google"] = {"id": f"g-{uuid.uuid4()}", "name": "남", "verified": True,
                                             "email": f"{uuid.uuid4().hex[:12]}@example.com"}
        other.login("google")
        assert other.call("GET", f"/api/v1/scan/task/{mine['task_id']}").status_code == 404
    finally:
        other.http.close()
