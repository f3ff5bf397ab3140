"""A photo's image_url: fetched from the upload bucket (the embedded store), classified, in the prompt."""

from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest

from eco2.chat import prompt
from eco2.testing import Client
from eco2_tools.embedded import EmbeddedS3
from tests.fakes.openai_server import FakeOpenAI, Reply

from ..scan.images import photo
from ..support import is_problem
from .conftest import ask, chat_client


@pytest.fixture(scope="module")
def bucket(s3_server: EmbeddedS3) -> Iterator[dict[str, Any]]:
    name = f"eco2-chat-{uuid.uuid4().hex[:10]}"
    s3_server.create_bucket(name)
    s3 = s3_server.client()
    s3.put_object(Bucket=name, Key="chat/cup.png", Body=photo("coffee.png"), ContentType="image/png")
    s3.put_object(Bucket=name, Key="chat/notes.txt", Body=b"not a photo", ContentType="text/plain")
    yield {"env": s3_server.env(name), "base": f"{s3_server.url}/{name}"}


@pytest.fixture(scope="module")
def chat(chat_env: dict[str, str], bucket: dict[str, Any], fake: FakeOpenAI) -> Client:
    return chat_client({**chat_env, **bucket["env"]}, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=fake.base_url)


def test_the_photos_classification_and_guide_join_the_prompt(
        chat: Client, bucket, openai_server: FakeOpenAI, make_user) -> None:
    openai_server.script(Reply(content="도자기 컵은 불연성 종량제 봉투에 버려요."))
    result = ask(chat, make_user()[1], "이 컵 어떻게 버려요?", image_url=f"{bucket['base']}/chat/cup.png")
    assert result.status == 201, result.body
    body = result.json
    assert body["photo"]["origin"] == "image" and body["photo"]["category"] == "non_combustible"
    assert body["photo"]["item"] == "ceramics"
    assert body["sources"][0] == {"kind": "category", "id": "non_combustible", "title": body["sources"][0]["title"],
                                  "category": "non_combustible"}
    reference = openai_server.requests[0].json["messages"][1]["content"]
    assert reference.startswith("참고 자료") and "[사용자가 보낸 사진] 분류: 도자기" in reference


def test_a_photo_sent_alone_asks_how_to_throw_it_away(
        chat: Client, bucket, openai_server: FakeOpenAI, make_user) -> None:
    """The app sends ``message: ""`` when the user sends only a photo."""
    openai_server.script(Reply(content="불연성 종량제 봉투에 버려요."))
    token = make_user()[1]
    result = ask(chat, token, "", image_url=f"{bucket['base']}/chat/cup.png")
    assert result.status == 201, result.body
    assert openai_server.requests[0].json["messages"][-1] == {"role": "user", "content": prompt.PHOTO_ONLY}
    # The next message's history still says what the photo showed (the reference text no longer does).
    openai_server.script(Reply(content="네, 깨진 것도 같아요."))
    ask(chat, token, "깨진 것도요?", session_id=result.json["session_id"])
    earlier = openai_server.requests[1].json["messages"][2]
    assert earlier == {"role": "user", "content": f"[사진: {result.json['photo']['name']}] {prompt.PHOTO_ONLY}"}


@pytest.mark.parametrize(("url", "status"), [
    ("http://169.254.169.254/latest/meta-data/", 422),  # not the bucket: never fetched
    ("https://example.com/chat/cup.png", 422),
    ("{base}/../other/cup.png", 422),
    ("{base}/chat/missing.png", 422),  # the store answers 403/404
    ("{base}/chat/notes.txt", (415, 422)),  # fetched, not a photo
])
def test_a_bad_image_url_is_a_clear_4xx(chat: Client, bucket, openai_server: FakeOpenAI, make_user,
                                        url: str, status) -> None:
    result = ask(chat, make_user()[1], "이거 뭐예요?", image_url=url.format(base=bucket["base"]))
    assert is_problem(result, status), result.body
    assert openai_server.requests == []  # no model was asked
