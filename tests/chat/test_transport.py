"""The model client's transport on its own: a long Retry-After is shortened."""

from __future__ import annotations

import httpx2

from eco2.chat.transport import Deadline
from tests.fakes.openai_server import FakeOpenAI, Reply


def test_a_long_retry_after_is_capped(fake: FakeOpenAI) -> None:
    """openai would wait up to two minutes between retries: the transport asks it for at most ``max_wait``."""
    fake.reset()
    fake.script(Reply(status=429, headers={"Retry-After": "100"}), Reply(status=503, headers={"Retry-After-Ms": "20"}))
    with httpx2.Client(transport=Deadline(5, max_wait=3)) as http:
        long, short = (http.post(f"{fake.base_url}/chat/completions", json={}) for _ in range(2))
    assert long.status_code == 429 and long.headers["retry-after-ms"] == "3000" and "retry-after" not in long.headers
    assert short.headers["retry-after-ms"] == "20"
