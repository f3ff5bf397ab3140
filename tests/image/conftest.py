"""The image function on the embedded object store, and what a test checks after it."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from eco2.testing import Client

from ..support import ROOT, bearer

SOURCE = ROOT / "functions" / "image" / "main.py"
PREFIX = "/api/v1/images"


def jpeg(size: int = 64) -> bytes:
    """A real photo's bytes: a JPEG the scan decoder would accept."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (30, 160, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def http(method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
    """A real HTTP request (to the embedded store), as the app's browser makes it."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


@dataclass
class Uploads:
    """The image function under test, a signed-in user, and the bucket's contents."""

    client: Client
    token: str
    user_id: str
    env: dict[str, str]
    s3: Any

    @property
    def bucket(self) -> str:
        return self.env["ECO2_IMAGE_BUCKET"]

    def ticket(self, channel: str = "scan", token: str | None = None, **body: Any) -> Any:
        body = {"filename": "photo.jpg", "content_type": "image/jpeg", **body}
        return self.client.post(f"{PREFIX}/{channel}", json=body, headers=bearer(token or self.token))

    def callback(self, channel: str = "scan", token: str | None = None, **body: Any) -> Any:
        return self.client.post(f"{PREFIX}/{channel}/callback", json=body, headers=bearer(token or self.token))

    def keys(self) -> list[str]:
        """Every object in the bucket."""
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])]

    def pending(self) -> list[bytes]:
        """Every open upload ticket in Redis."""
        import redis

        client = redis.Redis.from_url(self.env["REDIS_URL"])
        try:
            return sorted(client.scan_iter("eco2:image-upload:*"))
        finally:
            client.close()


@pytest.fixture
def uploads_for(function_env: dict[str, str], s3_env: dict[str, str], s3_server: Any,
                make_user: Callable[..., tuple[str, str]]) -> Callable[..., Uploads]:
    """``uploads_for(**env)``: the image function with extra settings, and a new user."""
    made: list[Client] = []

    def make(**extra: str) -> Uploads:
        env = {**function_env, **s3_env, **extra}
        client = Client(SOURCE, env=env)
        made.append(client)
        user_id, token = make_user()
        return Uploads(client, token, user_id, env, s3_server.client())

    yield make
    for client in made:
        client.close()


@pytest.fixture
def uploads(uploads_for: Callable[..., Uploads]) -> Uploads:
    return uploads_for()
