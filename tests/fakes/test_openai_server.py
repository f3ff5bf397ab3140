"""The fake OpenAI server, checked with the real openai client."""

from __future__ import annotations

import openai
import pytest

from .openai_server import FakeOpenAI, Reply


def client(fake: FakeOpenAI, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=fake.base_url, timeout=timeout, max_retries=0)


MESSAGES = [{"role": "user", "content": "안녕"}]


def test_json_completion_and_the_request_is_recorded(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply(content="반가워요"))
    out = client(fake_openai).chat.completions.create(model="m", messages=MESSAGES, temperature=0.1)
    assert out.choices[0].message.content == "반가워요"
    [request] = fake_openai.requests
    assert request.json["messages"] == MESSAGES and request.json["temperature"] == 0.1


def test_streaming_in_chunks_ends_with_done(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply(content="분리배출은 이렇게 해요", chunk_size=3))
    stream = client(fake_openai).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == "분리배출은 이렇게 해요" and len(pieces) == 4


def test_a_stream_that_breaks_mid_way_raises_in_the_client(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply(content="abcdefghijklmnop", chunk_size=4, break_after=2))
    stream = client(fake_openai).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    got = []
    with pytest.raises(openai.APIError):
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                got.append(chunk.choices[0].delta.content)
    assert got == ["abcd", "efgh"]


@pytest.mark.parametrize(("status", "error"), [
    (429, openai.RateLimitError), (500, openai.InternalServerError), (400, openai.BadRequestError),
])
def test_error_statuses(fake_openai: FakeOpenAI, status: int, error: type) -> None:
    fake_openai.script(Reply(status=status, headers={"Retry-After": "2"}))
    with pytest.raises(error) as info:
        client(fake_openai).chat.completions.create(model="m", messages=MESSAGES)
    assert info.value.status_code == status


def test_a_slow_answer_times_out_in_the_client(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply(content="late", delay=3.0))
    with pytest.raises(openai.APITimeoutError):
        client(fake_openai, timeout=0.3).chat.completions.create(model="m", messages=MESSAGES)


def test_unscripted_requests_get_the_default(fake_openai: FakeOpenAI) -> None:
    fake_openai.default = Reply(content="기본")
    c = client(fake_openai)
    for _ in range(2):
        assert c.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content == "기본"
    assert len(fake_openai.requests) == 2
