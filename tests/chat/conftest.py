"""chat under test: one function client and one fake OpenAI server per module.

Each test signs in a user of its own, so the module can share the function,
its Redis database and the fake; the fake's script and records are reset
before every test.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from eco2.testing import Client
from tests.conftest import TEST_REDIS_DB, flushed_redis
from tests.fakes.openai_server import FakeOpenAI

from ..support import ROOT, bearer

CHAT = ROOT / "functions" / "chat" / "main.py"
MESSAGES = "/api/v1/chat/messages"
# Kept for a module, as the reliability tier's is (this worker's + 1): modules
# of one worker run one after the other, and each flushes it first.
CHAT_REDIS_DB = TEST_REDIS_DB + 1
STREAM = {"Accept": "text/event-stream"}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def openai_server(fake: FakeOpenAI) -> FakeOpenAI:
    """The module's fake, with no script and no recorded requests."""
    fake.reset()
    return fake


@pytest.fixture(scope="module")
def chat_env(database_url: str, redis_server: str, key_env: dict[str, str]) -> dict[str, str]:
    return {"ECO2_ENV": "test", "DATABASE_URL": database_url,
            "REDIS_URL": flushed_redis(redis_server, CHAT_REDIS_DB), **key_env}


def chat_client(env: dict[str, str], **settings: Any) -> Client:
    return Client(CHAT, env={**env, **{k: str(v) for k, v in settings.items()}})


def events(body: bytes) -> list[tuple[str, Any]]:
    """A server-sent event stream as (name, data) pairs."""
    import json

    out = []
    for block in body.decode().split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((fields["event"], json.loads(fields["data"])))
    return out


def ask(chat: Client, token: str, message: str, *, stream: bool = False, **fields: Any):  # noqa: ANN201
    headers = {**bearer(token), **(STREAM if stream else {})}
    return chat.post(MESSAGES, json={"message": message, **fields}, headers=headers)
