"""The vision refinement against a real HTTP server standing in for OpenAI."""

from __future__ import annotations

import base64
import io
import json
import socket

import pytest
from PIL import Image

from eco2.scan import classifier

from tests.fakes.openai_server import FakeOpenAI, Reply

from .conftest import scan_settings
from .images import encode, photo, quadrants

UNSURE = encode(quadrants((800, 600)), "PNG")  # the model finds no category in it


def vision_settings(base_url: str, timeout: float = 5.0, **more):
    return scan_settings(ECO2_SCAN_VISION_MODEL="gpt-4o-mini", OPENAI_BASE_URL=base_url,
                         OPENAI_API_KEY="sk-test", ECO2_SCAN_VISION_TIMEOUT_SECONDS=timeout, **more)


def answer(**fields) -> str:
    return json.dumps({"category": "glass", "minor_category": "맥주병", "situation_tags": [], **fields},
                      ensure_ascii=False)


def test_an_unsure_photo_is_refined_by_the_vision_model(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply(content=answer(situation_tags=["뚜껑_있음", "라벨_부착", "invented_tag"])))
    result = classifier.classify(UNSURE, user_input="이거 뭐예요?", settings=vision_settings(fake_openai.base_url))
    assert result.source == "vision" and result.vision_error is None
    assert (result.category.code, result.item.id, result.minor) == ("glass", "beer-bottle", "맥주병")
    assert result.situation_tags == ("뚜껑_있음", "라벨_부착")  # the invented tag is dropped
    assert result.missing_steps == ("cap_off",) and not result.correct
    assert result.timings.vision_ms > 0
    assert result.classification == {"major_category": "재활용폐기물", "middle_category": "유리병",
                                      "minor_category": "맥주병"}

    [request] = fake_openai.requests  # one call, no retry
    body = request.json
    assert request.path == "/v1/chat/completions" and body["model"] == "gpt-4o-mini"
    assert request.headers["authorization"] == "Bearer sk-test"
    schema = body["response_format"]["json_schema"]
    assert schema["strict"] is True
    props = schema["schema"]["properties"]
    assert "glass" in props["category"]["enum"] and "unclassified" in props["category"]["enum"]
    assert "라벨_부착" in props["situation_tags"]["items"]["enum"]
    content = body["messages"][1]["content"]
    assert content[0] == {"type": "text", "text": "사용자의 말: 이거 뭐예요?"}
    url = content[1]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    sent = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert sent.format == "JPEG" and max(sent.size) <= 768  # downsized, not the original


def test_a_confident_photo_never_calls_vision(fake_openai: FakeOpenAI) -> None:
    result = classifier.classify(photo("coffee.png"), settings=vision_settings(fake_openai.base_url))
    assert result.source == "model" and fake_openai.requests == []


def test_user_input_that_names_the_item_is_used_before_vision(fake_openai: FakeOpenAI) -> None:
    result = classifier.classify(UNSURE, user_input="우유팩이에요", settings=vision_settings(fake_openai.base_url))
    assert result.source == "user_input" and fake_openai.requests == []


def test_vision_is_off_without_a_model_name(fake_openai: FakeOpenAI) -> None:
    settings = scan_settings(OPENAI_BASE_URL=fake_openai.base_url, OPENAI_API_KEY="sk-test")
    result = classifier.classify(UNSURE, settings=settings)
    assert result.source == "model" and result.vision_error is None and fake_openai.requests == []


def test_a_slow_vision_model_times_out_to_the_local_answer(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply(content=answer(), delay=6.0))
    result = classifier.classify(UNSURE, settings=vision_settings(fake_openai.base_url, timeout=0.5))
    assert result.source == "model" and result.category.code == "unclassified"
    assert result.vision_error == "timeout"
    assert result.timings.vision_ms < 6000  # it did not wait for the answer
    assert len(fake_openai.requests) == 1


def test_a_trickling_vision_answer_is_cut_at_the_timeout(fake_openai: FakeOpenAI) -> None:
    """httpx's read timeout restarts with every byte: a body sent 8 bytes every
    0.2 s never trips it. The call's deadline covers the whole answer."""
    body = json.dumps({"choices": [{"message": {"content": answer()}}]})
    trickle_ms = len(body) / 8 * 200  # what the whole body would take: over 8 s
    fake_openai.script(Reply(content=answer(), chunk_delay=0.2))
    result = classifier.classify(UNSURE, settings=vision_settings(fake_openai.base_url, timeout=0.5))
    assert (result.source, result.category.code, result.vision_error) == ("model", "unclassified", "timeout")
    # The deadline, a read after it and (first in a process) openai's import: far less than the trickle.
    assert result.timings.vision_ms < trickle_ms / 2
    assert len(fake_openai.requests) == 1


def test_the_runtime_keeps_one_client_per_configuration() -> None:
    """The one cache chat and vision use: the same numbers give the same client (one connection pool)."""
    from pydantic import SecretStr

    from eco2 import openai_client

    def make(timeout: float):
        return openai_client.client(base_url="http://127.0.0.1:9/v1", api_key=SecretStr("sk-test"),
                                    timeout=timeout, connect_timeout=timeout, max_retries=0)

    assert make(1.0) is make(1.0) and make(1.0) is not make(2.0)


@pytest.mark.parametrize(("reply", "error"), [
    (Reply(status=429, headers={"Retry-After": "1"}), "status 429"),
    (Reply(status=500), "status 500"),
    (Reply(status=503), "status 503"),
    (Reply(content="this is not json"), "invalid answer"),
    (Reply(content=answer(category="spaceship")), "invalid answer"),
    (Reply(content=json.dumps({"category": "glass"})), "invalid answer"),
    (Reply(content=answer(situation_tags="라벨_부착")), "invalid answer"),
], ids=["429", "500", "503", "not-json", "unknown-category", "missing-fields", "tags-not-a-list"])
def test_any_vision_failure_falls_back_to_the_local_answer(fake_openai: FakeOpenAI, reply: Reply,
                                                           error: str) -> None:
    fake_openai.script(reply)
    result = classifier.classify(UNSURE, settings=vision_settings(fake_openai.base_url))
    assert (result.source, result.category.code, result.vision_error) == ("model", "unclassified", error)
    assert len(fake_openai.requests) == 1  # no retries


def test_an_unreachable_vision_server_falls_back() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = classifier.classify(UNSURE, settings=vision_settings(f"http://127.0.0.1:{port}/v1"))
    assert result.source == "model" and result.vision_error == "connection"


def test_vision_without_an_api_key_falls_back_without_a_call(fake_openai: FakeOpenAI) -> None:
    settings = scan_settings(ECO2_SCAN_VISION_MODEL="gpt-4o-mini", OPENAI_BASE_URL=fake_openai.base_url)
    result = classifier.classify(UNSURE, settings=settings)
    assert (result.source, result.vision_error) == ("model", "no API key") and fake_openai.requests == []


def test_a_vision_item_outside_its_category_is_not_kept(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply(content=answer(category="paper", minor_category="맥주병")))
    result = classifier.classify(UNSURE, settings=vision_settings(fake_openai.base_url))
    assert (result.category.code, result.item, result.minor) == ("paper", None, "맥주병")
