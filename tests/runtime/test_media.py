"""A route's media option: JSON or a body taken as it comes, with the route's own limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from eco2.testing import Client

from ..support import is_problem

FIXTURE = Path(__file__).parent / "fixtures" / "media" / "main.py"
URL = "/api/v1/media/upload"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0\\u0000" * 100  # NUL bytes, and the JSON escape of one


@pytest.fixture(scope="module")
def client() -> Client:
    return Client(FIXTURE, env={"ECO2_ENV": "test", "ECO2_MAX_BODY_BYTES": "1024"})


def test_json_still_validated(client: Client) -> None:
    assert client.post(URL, json={"text": "hi"}).json == {"json": "hi"}
    assert is_problem(client.post(URL, json={"nope": 1}), 422)


def test_raw_body_as_it_came(client: Client) -> None:
    result = client.post(URL, data=PNG, headers={"Content-Type": "image/png"})
    assert result.json == {"raw": "image/png", "size": len(PNG), "nul": True}


def test_multipart_part(client: Client) -> None:
    boundary = "xyz"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + PNG + f"\r\n--{boundary}--\r\n".encode()
    result = client.post(URL, data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert result.json == {"part": "image/png", "size": len(PNG)}


def test_other_media_types_refused(client: Client) -> None:
    result = client.post(URL, data=b"GIF89a", headers={"Content-Type": "image/gif"})
    assert is_problem(result, 415)
    assert "image/png" in result.json["detail"]


def test_the_routes_own_limit(client: Client) -> None:
    # Above the runtime's 1024 bytes, within the route's 65536.
    assert client.post(URL, data=b"x" * 60000, headers={"Content-Type": "image/png"}).json["size"] == 60000
    assert is_problem(client.post(URL, data=b"x" * 65537, headers={"Content-Type": "image/png"}), 413)
    # JSON, on this route too, and other routes keep the runtime's.
    assert is_problem(client.post(URL, json={"text": "x" * 2000}), 413)
    assert is_problem(client.post("/api/v1/media/note", json={"text": "x" * 2000}), 413)


def test_openapi_names_the_media(client: Client) -> None:
    content = client.get("/api/v1/media/openapi.json").json["paths"]["/api/v1/media/upload"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "image/png", "multipart/form-data"}
    assert content["image/png"]["schema"] == {"type": "string", "format": "binary"}


def test_a_multipart_werkzeug_refuses_is_a_problem(client: Client) -> None:
    """Over werkzeug's form limits (1,000 parts): its 413 as problem+json, not a 500."""
    parts = b"".join(b"--x\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv\r\n" % i for i in range(1001))
    result = client.post(URL, data=parts + b"--x--\r\n",
                         headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert is_problem(result, 413) and result.json["type"] == "about:blank"  # werkzeug's, not the body limit


def test_media_options_that_would_do_nothing_are_refused_at_registration() -> None:
    """Before: media= without body= was silently ignored (no 415, no OpenAPI body),
    and max_body= without media= did nothing."""
    from eco2 import Function

    fn = Function("misdeclared", "/api/v1/misdeclared")
    with pytest.raises(ValueError, match="media= needs body="):
        fn.post("/a", media=("image/png",))
    with pytest.raises(ValueError, match="max_body= is the limit of a media= body"):
        fn.post("/b", max_body=1024)
    with pytest.raises(ValueError, match="part= names a multipart"):
        fn.post("/c", body=dict, media=("image/png",), part="image")


def test_a_multipart_part_is_named_by_its_route(client: Client) -> None:
    """The runtime no longer assumes scan's part name: a route names its own."""
    from eco2 import Function

    fn = Function("parts", "/api/v1/parts")
    fn.post("/doc", body=dict, media=("multipart/form-data",), part="document")(lambda call: None)
    fn.post("/any", body=dict, media=("multipart/form-data",))(lambda call: None)
    paths = fn.openapi()["paths"]
    named = paths["/api/v1/parts/doc"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert named["properties"] == {"document": {"type": "string", "format": "binary"}}
    assert named["required"] == ["document"]
    assert paths["/api/v1/parts/any"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"] == {
        "type": "object"}
