"""The app's photo flow through `eco2 dev`: a real image function process
behind the gateway, the embedded object store as `eco2 dev` makes it, a real
PUT to the store, the photo read back by its public URL, then scanned by that
URL and its reward seen through my and character, and chat asked about the
scan and the photo (offline, with no API key, as `make dev` runs it)."""

from __future__ import annotations

import json

import pytest

from eco2_tools.dev import command
from eco2_tools.embedded import EmbeddedS3

from ..image.conftest import http, jpeg
from ..support import bearer
from ..gateway.harness import RunningGateway

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture
def dev_store(monkeypatch: pytest.MonkeyPatch):
    """The store and bucket exactly as `eco2 dev` starts them (eco2_tools.dev.command._uploads)."""
    monkeypatch.delenv("ECO2_IMAGE_BUCKET", raising=False)
    started: list[command.Backing] = []
    backing, env = command._uploads(started, ["http://localhost:5173"])  # noqa: SLF001
    try:
        yield backing, env
    finally:
        for b in started:
            b.server.stop()


def test_eco2_dev_makes_the_store_and_hands_it_to_image_scan_and_chat(dev_store, start_gateway, database_url,
                                                                       redis_url, key_env) -> None:
    backing, env = dev_store
    assert isinstance(backing.server, EmbeddedS3) and "embedded" in backing.describe()
    assert env["ECO2_IMAGE_BUCKET"] == command.DEV_BUCKET and env["ECO2_IMAGE_ENDPOINT_URL"] == backing.server.url
    gw: RunningGateway = start_gateway(database_url=database_url, redis_url=redis_url, env=key_env,
                                       function_env=dict.fromkeys(command.UPLOAD_FUNCTIONS, env))
    for name in ("image", "scan", "chat"):
        assert gw.gateway.functions[name].env["ECO2_IMAGE_ENDPOINT_URL"] == backing.server.url
    assert "ECO2_IMAGE_ENDPOINT_URL" not in gw.gateway.functions["my"].env

    login = gw.request("POST", "/api/v1/auth/dev/login", headers={"Content-Type": "application/json"},
                       body=json.dumps({"nickname": "사진"}).encode())
    assert login.status == 200, login.body
    token = login.json()["access_token"]
    asked = gw.request("POST", "/api/v1/images/scan", headers={**bearer(token), "Content-Type": "application/json"},
                       body=json.dumps({"filename": "can.jpg", "content_type": "image/jpeg"}).encode())
    assert asked.status == 200, asked.body
    ticket = asked.json()
    photo = jpeg()
    put = http("PUT", ticket["upload_url"], photo, {"Content-Type": "image/jpeg"})
    assert put.status == 200, put.body
    confirmed = gw.request("POST", "/api/v1/images/scan/callback",
                           headers={**bearer(token), "Content-Type": "application/json"},
                           body=json.dumps({"key": ticket["key"], "etag": put.headers["ETag"]}).encode())
    assert confirmed.status == 200, confirmed.body
    assert ticket["cdn_url"].startswith(f"{backing.server.url}/{command.DEV_BUCKET}/scan/")
    assert http("GET", ticket["cdn_url"]).body == photo
    # scan fetches it by its cdn_url (the dev allow-list names the store on 127.0.0.1)
    # and rewards it; my shows the points, the scan and the character.
    json_auth = {**bearer(token), "Content-Type": "application/json"}
    scanned = gw.request("POST", "/api/v1/scan/classify", headers=json_auth,
                         body=json.dumps({"image_url": ticket["cdn_url"], "user_input": "우유팩이에요"}).encode())
    assert scanned.status == 200, scanned.body
    answer = scanned.json()
    assert answer["reward"]["received"] is True and answer["points"]["awarded"] == 40
    points = gw.request("GET", "/api/v1/user/me/points", headers=bearer(token))
    assert points.status == 200 and points.json()["balance"] == 40, points.body
    scans = gw.request("GET", "/api/v1/user/me/scans", headers=bearer(token)).json()
    assert [s["id"] for s in scans["items"]] == [answer["scan_id"]]
    owned = gw.request("GET", "/api/v1/user/me/characters", headers=bearer(token)).json()
    assert answer["reward"]["name"] in {c["name"] for c in owned}
    analysis = gw.request("GET", "/api/v1/character/me/analysis", headers=bearer(token))
    assert analysis.status == 200 and "종이팩" in analysis.body.decode(), analysis.body
    # chat, with no API key as `make dev` runs it, about the scan and about the photo.
    for about, origin in (({"scan_id": answer["scan_id"]}, "scan"), ({"image_url": ticket["cdn_url"]}, "image")):
        asked = gw.request("POST", "/api/v1/chat/messages", headers=json_auth,
                           body=json.dumps({"message": "이거 어떻게 버려요?", **about}).encode())
        assert asked.status == 201, asked.body
        said = asked.json()
        assert said["model"] == "offline" and said["user_answer"] and said["photo"]["origin"] == origin
        if origin == "scan":  # the scan as it was recorded: the milk carton the user named
            assert said["photo"]["category"] == "paper_pack" and said["sources"][0]["id"] == "paper_pack"

def test_a_bucket_of_your_own_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECO2_IMAGE_BUCKET", "my-own-bucket")
    started: list[command.Backing] = []
    backing, env = command._uploads(started, [])  # noqa: SLF001
    assert started == [] and env == {} and backing.describe() == "$ECO2_IMAGE_BUCKET (external)"
