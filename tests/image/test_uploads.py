"""The photo flow against the embedded object store, with real HTTP PUTs, and
every bad input of the flow: each a clear problem, nothing left behind."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from eco2 import config
from eco2.image.settings import ImageSettings, allowed_origins, is_upload_url
from eco2_tools.embedded import EmbeddedS3

from ..support import PROBLEM, bearer, is_problem
from .conftest import PREFIX, Uploads, http, jpeg


def use_the_photo(uploads: Uploads, cdn_url: str) -> bytes:
    """Step 4 of the flow: the object read back by its public URL, which is on
    the allow-list scan and chat fetch from (the scan itself, with its reward:
    tests/e2e/test_photo_flow.py and tests/contract/test_scan.py)."""
    settings = config.load(ImageSettings, environ=uploads.env)
    assert is_upload_url(settings, cdn_url)
    parts = urlsplit(cdn_url)
    assert f"{parts.scheme}://{parts.netloc}" in allowed_origins(settings)
    fetched = http("GET", cdn_url)
    assert fetched.status == 200
    return fetched.body


@pytest.mark.parametrize("channel", ["scan", "chat", "my"])
def test_photo_flow_end_to_end(uploads: Uploads, channel: str) -> None:
    photo = jpeg()
    # 1. ask for a URL
    asked = uploads.ticket(channel, filename="IMG_0001.JPG", metadata={"source": "camera"})
    assert asked.status == 200, asked.body
    ticket = asked.json
    assert set(ticket) == {"key", "upload_url", "cdn_url", "expires_in", "required_headers"}
    assert ticket["key"].startswith(f"{channel}/{uploads.user_id}/") and ticket["key"].endswith(".jpg")
    assert ticket["required_headers"] == {"Content-Type": "image/jpeg"}
    assert ticket["expires_in"] == 300
    assert ticket["cdn_url"].endswith("/" + ticket["key"])
    # 2. PUT the bytes with the returned headers, as the app does
    put = http("PUT", ticket["upload_url"], photo, ticket["required_headers"])
    assert put.status == 200, put.body
    # 3. call back with the ETag the store answered
    confirmed = uploads.callback(channel, key=ticket["key"], etag=put.headers["ETag"], content_length=len(photo))
    assert confirmed.status == 200, confirmed.body
    assert confirmed.json == {
        "key": ticket["key"], "channel": channel, "cdn_url": ticket["cdn_url"], "uploader_id": uploads.user_id,
        "metadata": {"source": "camera"}, "etag": put.headers["ETag"], "content_type": "image/jpeg",
    }
    # 4. use it by its public URL
    assert use_the_photo(uploads, ticket["cdn_url"]) == photo
    assert uploads.keys() == [ticket["key"]] and uploads.pending() == []
    # A ticket confirms once; the photo stays.
    again = uploads.callback(channel, key=ticket["key"], etag=put.headers["ETag"])
    assert is_problem(again, 404)
    assert uploads.keys() == [ticket["key"]]


def test_presigning_makes_no_request_to_the_store(uploads_for) -> None:
    """Signing is local: a store that does not exist does not stop a ticket."""
    uploads = uploads_for(ECO2_IMAGE_ENDPOINT_URL="http://127.0.0.1:9")  # nothing listens on port 9
    asked = uploads.ticket()
    assert asked.status == 200 and asked.json["upload_url"].startswith("http://127.0.0.1:9/")


def test_the_extension_follows_the_content_type(uploads: Uploads) -> None:
    cases = {("a.jpeg", "image/jpeg"): ".jpeg", ("a.PNG", "image/png"): ".png", ("a", "image/webp"): ".webp",
             ("a.exe", "image/heic"): ".heic", ("a.png", "image/jpeg"): ".jpg", (".jpg", "image/jpeg"): ".jpg"}
    for (filename, content_type), ext in cases.items():
        asked = uploads.ticket(filename=filename, content_type=content_type)
        assert asked.status == 200, (filename, asked.body)
        assert asked.json["key"].endswith(ext), (filename, asked.json["key"])
        assert asked.json["key"].count("/") == 2


@pytest.mark.parametrize("content_type", ["text/html", "image/gif", "image/svg+xml", "image/jpeg; charset=utf-8",
                                          "IMAGE/JPEG", "application/octet-stream", ""])
def test_a_wrong_content_type_gets_no_url(uploads: Uploads, content_type: str) -> None:
    asked = uploads.ticket(content_type=content_type)
    assert is_problem(asked, 422)
    assert asked.json["errors"][0]["loc"] == ["body", "content_type"]
    assert uploads.pending() == [] and uploads.keys() == []


@pytest.mark.parametrize("filename", ["../../etc/passwd.jpg", "scan/other/x.jpg", "a\\b.jpg", "/abs.jpg",
                                      "a\u0000.jpg", "a\nb.jpg", "..", "", "x" * 256 + ".jpg"])
def test_a_filename_with_path_segments_or_nul_gets_no_url(uploads: Uploads, filename: str) -> None:
    asked = uploads.ticket(filename=filename)
    assert is_problem(asked, 422), asked.body
    assert uploads.pending() == [] and uploads.keys() == []


def test_a_put_with_another_content_type_is_refused_by_the_store(uploads: Uploads) -> None:
    ticket = uploads.ticket().json
    put = http("PUT", ticket["upload_url"], jpeg(), {"Content-Type": "image/png"})
    assert put.status == 403 and b"SignatureDoesNotMatch" in put.body
    # The app could not upload, and the callback says there is nothing.
    assert is_problem(uploads.callback(key=ticket["key"], etag='"0"'), 404)
    assert uploads.keys() == []


def test_a_url_for_one_key_cannot_put_another(uploads: Uploads) -> None:
    ticket = uploads.ticket().json
    other = ticket["upload_url"].replace(ticket["key"], f"scan/{uploads.user_id}/{'0' * 32}.jpg")
    assert http("PUT", other, jpeg(), ticket["required_headers"]).status == 403
    assert uploads.keys() == []


def test_an_expired_url_is_refused(uploads_for) -> None:
    uploads = uploads_for(ECO2_IMAGE_URL_TTL_SECONDS="1")
    ticket = uploads.ticket().json
    assert ticket["expires_in"] == 1
    time.sleep(2.1)  # X-Amz-Date has whole seconds
    put = http("PUT", ticket["upload_url"], jpeg(), ticket["required_headers"])
    assert put.status == 403 and b"Request has expired" in put.body
    missing = uploads.callback(key=ticket["key"], etag='"0"')
    assert is_problem(missing, 404) and "expired" in missing.json["detail"]
    assert uploads.keys() == []


def _uploaded(uploads: Uploads, body: bytes, channel: str = "scan") -> tuple[dict, str]:
    ticket = uploads.ticket(channel).json
    put = http("PUT", ticket["upload_url"], body, ticket["required_headers"])
    assert put.status == 200, put.body
    return ticket, put.headers["ETag"]


def test_a_key_under_another_users_prefix_is_refused(uploads: Uploads, make_user) -> None:
    ticket, etag = _uploaded(uploads, jpeg())
    _, stranger = make_user()
    refused = uploads.callback(key=ticket["key"], etag=etag, token=stranger)
    assert is_problem(refused, 403)
    # The owner's photo is untouched, and the owner can still confirm it.
    assert uploads.keys() == [ticket["key"]]
    assert uploads.callback(key=ticket["key"], etag=etag).status == 200


def test_a_key_of_another_channel_or_shape_is_refused(uploads: Uploads) -> None:
    ticket, etag = _uploaded(uploads, jpeg(), channel="chat")
    assert is_problem(uploads.callback("scan", key=ticket["key"], etag=etag), 400)
    for key in (f"scan/{uploads.user_id}/../{ticket['key']}", "scan/x/y.jpg", ticket["key"] + "/..",
                f"scan/{uploads.user_id}/{'a' * 32}.jpg?x=1"):
        assert is_problem(uploads.callback(key=key, etag=etag), 422), key
    assert uploads.keys() == [ticket["key"]]


def test_a_wrong_etag_is_refused_and_the_upload_deleted(uploads: Uploads) -> None:
    ticket, _ = _uploaded(uploads, jpeg())
    refused = uploads.callback(key=ticket["key"], etag='"0123456789abcdef0123456789abcdef"')
    assert is_problem(refused, 409) and refused.json["type"].endswith("etag-mismatch")
    assert uploads.keys() == [] and uploads.pending() == []


def test_a_wrong_length_is_refused_and_the_upload_deleted(uploads: Uploads) -> None:
    photo = jpeg()
    ticket, etag = _uploaded(uploads, photo)
    assert is_problem(uploads.callback(key=ticket["key"], etag=etag, content_length=len(photo) + 1), 409)
    assert uploads.keys() == []


def test_an_oversized_upload_is_refused_and_deleted(uploads_for) -> None:
    uploads = uploads_for(ECO2_IMAGE_MAX_BYTES="1024")
    big = jpeg(256)
    assert len(big) > 1024
    ticket, etag = _uploaded(uploads, big)
    refused = uploads.callback(key=ticket["key"], etag=etag)
    assert is_problem(refused, 413) and refused.json["type"].endswith("upload-too-large")
    assert uploads.keys() == [] and uploads.pending() == []
    # Within the limit is fine.
    small = jpeg(8)
    assert len(small) <= 1024
    ticket, etag = _uploaded(uploads, small)
    assert uploads.callback(key=ticket["key"], etag=etag).status == 200


def test_a_callback_without_an_upload_is_404_when_the_store_answers_403(uploads: Uploads, s3_server) -> None:
    """The session's store answers a HEAD of a missing key with 403, as S3 does
    for the image function's key (no s3:ListBucket)."""
    assert s3_server.missing_key_status == 403
    ticket = uploads.ticket().json
    assert is_problem(uploads.callback(key=ticket["key"], etag='"0"'), 404)


def test_a_callback_without_an_upload_is_404_when_the_store_answers_404(uploads_for) -> None:
    """moto's own answer (and S3's to a key that may list the bucket)."""
    store = EmbeddedS3(missing_key_status=404)
    store.start()
    try:
        store.create_bucket("eco2-test-404")
        uploads = uploads_for(**store.env("eco2-test-404"))
        ticket = uploads.ticket().json
        assert is_problem(uploads.callback(key=ticket["key"], etag='"0"'), 404)
    finally:
        store.stop()


def test_uploader_id_must_be_the_caller(uploads: Uploads, make_user) -> None:
    other, _ = make_user()
    assert uploads.ticket(uploader_id=uploads.user_id).status == 200
    assert uploads.ticket(uploader_id=uploads.user_id.upper()).status == 200
    refused = uploads.ticket(uploader_id=other)
    assert is_problem(refused, 403)
    assert len(uploads.pending()) == 2


def test_metadata_is_bounded(uploads: Uploads) -> None:
    assert is_problem(uploads.ticket(metadata={"x": "y" * 3000}), 422)
    assert is_problem(uploads.ticket(metadata=["not", "an", "object"]), 422)
    assert uploads.pending() == []


def test_a_token_is_required_and_channels_are_fixed(uploads: Uploads) -> None:
    body = {"filename": "a.jpg", "content_type": "image/jpeg"}
    assert is_problem(uploads.client.post(f"{PREFIX}/scan", json=body), 401)
    assert is_problem(uploads.client.post(f"{PREFIX}/scan/callback", json={"key": "abc", "etag": "x"}), 401)
    unknown = uploads.client.post(f"{PREFIX}/profile", json=body, headers=bearer(uploads.token))
    assert is_problem(unknown, 404)
    assert unknown.content_type == PROBLEM


def test_without_a_bucket_uploads_answer_503(function_env, make_user) -> None:
    from eco2.testing import Client

    from .conftest import SOURCE

    client = Client(SOURCE, env={**function_env, "ECO2_IMAGE_BUCKET": ""})
    try:
        _, token = make_user()
        asked = client.post(f"{PREFIX}/scan", json={"filename": "a.jpg", "content_type": "image/jpeg"},
                            headers=bearer(token))
        assert is_problem(asked, 503)
        assert client.get("/healthz").status == 200
    finally:
        client.close()


def test_a_store_that_cannot_be_reached_is_503_on_callback(uploads_for) -> None:
    uploads = uploads_for(ECO2_IMAGE_ENDPOINT_URL="http://127.0.0.1:9")
    ticket = uploads.ticket().json
    down = uploads.callback(key=ticket["key"], etag='"0"')
    assert is_problem(down, 503) and "Retry-After" in down.headers
