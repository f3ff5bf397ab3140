"""The v1 contract of /api/v1/images, as the released app and the original
backend (eco2-team/backend v1.0.0, domains/image/schemas) have it.

The app (src/api/services/image/) posts ``{filename, content_type}`` with its
``s_access`` cookie (never a bearer header), cross-origin with credentials;
then PUTs the file to ``upload_url`` with only ``Content-Type: <file type>``;
then passes ``cdn_url`` on as ``image_url``. It never calls the callback, but
the original served it, in the shape checked here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from eco2.tokens import ACCESS_COOKIE

from ..image.conftest import PREFIX, Uploads, http, jpeg, uploads, uploads_for  # noqa: F401 - fixtures

APP_ORIGIN = "http://localhost:5173"
TICKET_FIELDS = {"key": str, "upload_url": str, "cdn_url": str, "expires_in": int, "required_headers": dict}
CONFIRMED_FIELDS = {"key": str, "channel": str, "cdn_url": str, "uploader_id": str, "metadata": dict,
                    "etag": str, "content_type": str}


@pytest.fixture
def app_uploads(uploads_for) -> Uploads:
    return uploads_for(ECO2_CORS_ORIGINS=APP_ORIGIN)


def as_the_app(uploads: Uploads) -> dict[str, str]:
    """The app's headers; its token rides in the s_access cookie (werkzeug's
    test client sends cookies from its jar, not from a Cookie header)."""
    uploads.client._client.set_cookie(ACCESS_COOKIE, uploads.token)  # noqa: SLF001
    return {"Origin": APP_ORIGIN, "Content-Type": "application/json"}


def _typed(doc: dict, fields: dict[str, type]) -> bool:
    return set(doc) == set(fields) and all(isinstance(doc[k], t) for k, t in fields.items())


@pytest.mark.parametrize("channel", ["chat", "scan", "my"])
def test_the_app_asks_puts_and_reads_as_it_does(app_uploads: Uploads, channel: str) -> None:
    photo = jpeg()
    # What the app sends: the file's name and type, nothing else, with its cookie.
    asked = app_uploads.client.post(f"{PREFIX}/{channel}", data=b'{"filename": "1705123456789.jpg", '
                                    b'"content_type": "image/jpeg"}', headers=as_the_app(app_uploads))
    assert asked.status == 200, asked.body
    assert asked.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert asked.headers["Access-Control-Allow-Credentials"] == "true"
    ticket = asked.json
    assert _typed(ticket, TICKET_FIELDS)
    # The app ignores required_headers and sends Content-Type = the file's type:
    # the URL must need nothing more.
    assert ticket["required_headers"] == {"Content-Type": "image/jpeg"}
    for url in (ticket["upload_url"], ticket["cdn_url"]):
        assert urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc
    put = http("PUT", ticket["upload_url"], photo, {"Content-Type": "image/jpeg"})
    assert put.status == 200 and put.headers["ETag"]
    # cdn_url is what the app passes on as image_url: the photo is there.
    assert http("GET", ticket["cdn_url"]).body == photo


def test_the_original_request_fields_are_all_accepted(uploads: Uploads) -> None:
    asked = uploads.ticket(filename="a.png", content_type="image/png", uploader_id=uploads.user_id,
                           metadata={"screen": "camera", "n": 1})
    assert asked.status == 200 and _typed(asked.json, TICKET_FIELDS)


def test_the_callback_answers_in_the_original_shape(uploads: Uploads) -> None:
    ticket = uploads.ticket("chat", metadata={"k": "v"}).json
    put = http("PUT", ticket["upload_url"], jpeg(), ticket["required_headers"])
    confirmed = uploads.callback("chat", key=ticket["key"], etag=put.headers["ETag"], content_length=len(jpeg()),
                                 checksum="sha256-not-checked")
    assert confirmed.status == 200, confirmed.body
    assert _typed(confirmed.json, CONFIRMED_FIELDS)
    assert confirmed.json["channel"] == "chat" and confirmed.json["metadata"] == {"k": "v"}


def test_the_openapi_document_declares_the_contract(uploads: Uploads) -> None:
    doc = uploads.client.get(f"{PREFIX}/openapi.json").json
    schemas = doc["components"]["schemas"]

    def schema(path: str, part: str) -> dict:
        op = doc["paths"][path]["post"]
        ref = (op["requestBody"]["content"]["application/json"]["schema"] if part == "request"
               else op["responses"]["200"]["content"]["application/json"]["schema"])
        return schemas[ref["$ref"].rsplit("/", 1)[1]]

    for channel in ("chat", "scan", "my"):
        request = schema(f"{PREFIX}/{channel}", "request")
        assert set(request["properties"]) == {"filename", "content_type", "uploader_id", "metadata"}
        assert set(request["required"]) == {"filename", "content_type"}
        assert set(schema(f"{PREFIX}/{channel}", "response")["required"]) == set(TICKET_FIELDS)
        callback = schema(f"{PREFIX}/{channel}/callback", "request")
        assert set(callback["properties"]) == {"key", "etag", "content_length", "checksum"}
        assert set(callback["required"]) == {"key", "etag"}
        assert set(schema(f"{PREFIX}/{channel}/callback", "response")["required"]) == set(CONFIRMED_FIELDS)
